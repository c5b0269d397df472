/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI between the XDP classifier (bpf/vmq_classify.bpf.c) and vmqd.
 * This is the only header both sides include. Every map key and value is
 * defined here with explicit widths and padding, and its size is asserted on
 * both sides, so a change that breaks the layout fails the build.
 */
#ifndef VMQ_ABI_H
#define VMQ_ABI_H

#include <linux/types.h>

/* Queue 0 is the default queue: XDP_PASS to the host's software switch. */
#define VMQ_DEFAULT_QUEUE_ID 0u

/* Filter VLAN value meaning "untagged frames and frames tagged with VID 0". */
#define VMQ_VLAN_UNTAGGED_OR_ZERO 0u
#define VMQ_VLAN_MIN 1u
#define VMQ_VLAN_MAX 4094u

/* Upper bounds of the map sizes; the agent sets the real sizes at load time. */
#define VMQ_MAX_QUEUES_LIMIT 4096u   /* queue ids 1..limit-1, 0 is the default queue */
#define VMQ_MAX_FILTERS_LIMIT 65536u /* filter ids 1..limit */
#define VMQ_MAX_RXQ_LIMIT 64u

/* Queue states, numbered as the agent's state machine; only RUNNING receives. */
enum vmq_queue_state {
	VMQ_QUEUE_UNDEFINED = 0,
	VMQ_QUEUE_ALLOCATED = 1,
	VMQ_QUEUE_SET = 2,
	VMQ_QUEUE_RUNNING = 3,
	VMQ_QUEUE_PAUSED = 4,
	VMQ_QUEUE_DMA_STOPPED = 5,
	VMQ_QUEUE_FREEING = 6,
};

/* What the classifier does with the VLAN tag it matched on. */
enum vmq_vlan_mode {
	VMQ_VLAN_MODE_TRUNK = 0,  /* tag kept: the guest sees the tagged frame */
	VMQ_VLAN_MODE_ACCESS = 1, /* outer tag removed before delivery */
};

/* Why a frame went to the default queue (index into vmq_default_stats). */
enum vmq_default_reason {
	VMQ_DEFAULT_NO_FILTER = 0,
	VMQ_DEFAULT_QUEUE_NOT_RUNNING = 1,
	VMQ_DEFAULT_BROADCAST_MULTICAST = 2,
	VMQ_DEFAULT_MALFORMED = 3,
	VMQ_DEFAULT_EMPTY_SLOT = 4, /* filter matched, but no socket in the XSKMAP slot */
	VMQ_DEFAULT_OVERSIZE = 5,   /* longer than a queue's receive buffer */
	VMQ_DEFAULT_REASON_COUNT = 6,
};

/* Key of the filter hash map: destination MAC and VLAN id (host order),
 * VMQ_VLAN_UNTAGGED_OR_ZERO for untagged and priority-tagged frames. */
struct vmq_filter_key {
	__u8 mac[6];
	__u16 vlan;
};

struct vmq_filter_value {
	__u32 queue_id;
	__u32 filter_id;
};

/* Value of the queue array, indexed by queue id. */
struct vmq_queue_entry {
	__u32 state;     /* enum vmq_queue_state */
	__u32 vlan_mode; /* enum vmq_vlan_mode */
};

/* Per-CPU traffic counter (queues and default-queue reasons). */
struct vmq_traffic {
	__u64 packets;
	__u64 bytes;
};

/* Per-CPU hit counter, indexed by filter id. */
struct vmq_filter_hits {
	__u64 hits;
};

/*
 * The XSKMAP slot of a queue's socket on uplink rx queue r is
 * queue_id * rxq_count + r: a redirect only reaches a socket bound to the rx
 * queue the frame arrived on, so a queue has one socket per rx queue.
 */

#ifdef __cplusplus
#define VMQ_STATIC_ASSERT static_assert
#else
#define VMQ_STATIC_ASSERT _Static_assert
#endif
VMQ_STATIC_ASSERT(sizeof(struct vmq_filter_key) == 8, "vmq_filter_key layout");
VMQ_STATIC_ASSERT(sizeof(struct vmq_filter_value) == 8, "vmq_filter_value layout");
VMQ_STATIC_ASSERT(sizeof(struct vmq_queue_entry) == 8, "vmq_queue_entry layout");
VMQ_STATIC_ASSERT(sizeof(struct vmq_traffic) == 16, "vmq_traffic layout");
VMQ_STATIC_ASSERT(sizeof(struct vmq_filter_hits) == 8, "vmq_filter_hits layout");

#endif /* VMQ_ABI_H */
