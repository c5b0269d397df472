// The seams between the agent's logic and the kernel, one per job: queue
// control (QueueManager's), telemetry (views, stats, metrics), frame tracing
// and attachment health. A host's dataplane (BpfDataplane in agent/os) is all
// four; the daemon hands each consumer only the seam it needs, and the unit
// tests implement them with a fake. Nothing on this side makes a syscall.
#pragma once

#include "core/attachment_health.h"
#include "core/frame_tracer.h"
#include "core/queue_control.h"
#include "core/telemetry.h"

namespace vmq {

class Dataplane : public QueueControl, public Telemetry, public FrameTracer, public AttachmentHealth {};

}  // namespace vmq
