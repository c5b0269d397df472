// What a worker serves: one queue's data path, whatever the kind of its port.
#pragma once

#include <vector>

namespace vmq::os {

// What one service() call did: frames taken from the queue's RX rings, and
// port completions taken (each frame is handled twice: in, then completed).
struct ServiceRound {
  unsigned frames = 0;
  unsigned completions = 0;
  unsigned other = 0;  // the VM's other traffic its port carried (a vhost-user port's leg)
  bool idle() const { return frames == 0 && completions == 0 && other == 0; }
};

class ServicedQueue {
 public:
  virtual ~ServicedQueue() = default;
  // Moves what is ready.
  virtual ServiceRound service() = 0;
  // Descriptors the worker sleeps on while every queue it serves is idle.
  virtual std::vector<int> poll_fds() const = 0;
  // Frames handed to the port whose completion has not come yet, or a port
  // whose work comes without a wakeup: the worker sleeps only briefly.
  virtual bool awaiting_port() const = 0;
  virtual void set_worker_tid(int tid) = 0;
};

}  // namespace vmq::os
