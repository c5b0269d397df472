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
#define VMQ_MAX_SUB_QUEUES_LIMIT 16u /* sub-queues of one queue (VMMQ), each on its own CPU */

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

/* What a filter matches: destination MAC and VLAN id (host order),
 * VMQ_VLAN_UNTAGGED_OR_ZERO for untagged and priority-tagged frames. The
 * filter table stores it as one word, vmq_filter_key_word(). */
struct vmq_filter_key {
	__u8 mac[6];
	__u16 vlan;
};

struct vmq_filter_value {
	__u32 queue_id;
	__u32 filter_id;
};

/*
 * The filter table (map vmq_filters): a BPF_F_MMAPABLE array of 64-byte
 * buckets (one cache line) of four {key word, value} slots. A filter lives in
 * one of two buckets, the top bits of its key word times one of two odd
 * multipliers (vmq_filter_bucket_index()), so a lookup compares at most eight
 * slots whatever the frame. Key word 0 marks a free slot: MAC
 * 00:00:00:00:00:00 is never a filter. The agent sizes the table (a power of two, at least two
 * slots per filter) and sets the multipliers and the shift in the
 * classifier's .rodata before load; it is the only writer, and writes the
 * slots in place through the mmapped map (agent/core/filter_table.h).
 *
 * Lock-free protocol. Writer (one thread, aligned 8-byte stores that reach
 * memory in program order: x86 TSO, release stores in C++):
 *  - insert: store the value, then the key word, in a free slot;
 *  - replace: store the new value over the old one (the key word stays);
 *  - delete: store key word 0;
 *  - move (cuckoo displacement): insert the entry in a free slot of its other
 *    bucket, then delete it from the old slot. A displacement path is run
 *    from its free end backwards, so every key stays in the table throughout;
 *  - a slot never goes from one key to another without passing through 0.
 * Reader (XDP, any CPU): load the key word, the value, the key word again,
 * each with one READ_ONCE (volatile: clang keeps their order; x86 keeps
 * loads in order), and take the value only if both key loads equal the
 * frame's key word, which is never 0.
 *
 * Why a taken value always belongs to a filter of the frame's key K: by the
 * writer's rules, whenever a slot's key word is K != 0 its value is a value
 * of K (values change only under key 0 or under their own key, and a key is
 * stored only after its value). If the slot held K during the whole read,
 * the value is K's. Otherwise K left the slot after the first load and was
 * back by the second. If no other key entered the slot meanwhile, the slot
 * only ever held values of K. If another key did (the ABA case: K, 0, K', 0,
 * K), the value read may be K''s, so the writer never lets that happen
 * within one read: once a key has left a slot and another key has entered
 * it, the key comes back to that slot only after waiting for every reader
 * that was running (an RCU grace period: each XDP run is an RCU read-side
 * critical section). A lookup can miss a key only while the key moves from
 * its second bucket to its first (the reader scanned bucket 1 before the
 * copy, bucket 2 after the delete): the frame then takes the default queue,
 * never another queue.
 * The argument is made for x86-64, where the JIT emits plain loads and TSO
 * keeps them in order; a weakly ordered CPU would need load-acquire there,
 * so the build refuses other architectures (CMakeLists.txt).
 */
#define VMQ_FILTER_BUCKET_SLOTS 4
#define VMQ_FILTER_KEY_FREE 0ull
#define VMQ_FILTER_HASH_FIRST 0x9e3779b97f4a7c15ull  /* odd: 2^64 / golden ratio */
#define VMQ_FILTER_HASH_SECOND 0xc2b2ae3d27d4eb4full /* odd: xxHash64's PRIME64_2 */

struct vmq_filter_slot {
	__u64 key; /* vmq_filter_key_word(), VMQ_FILTER_KEY_FREE when free */
	struct vmq_filter_value value;
};

struct vmq_filter_bucket {
	struct vmq_filter_slot slot[VMQ_FILTER_BUCKET_SLOTS];
};

#ifdef __cplusplus
#define VMQ_TO_U32(x) static_cast<__u32>(x)
#else
#define VMQ_TO_U32(x) ((__u32)(x))
#endif

/* MAC octet i in bits 8i..8i+7, the VLAN in bits 48..63: on a little-endian
 * CPU, the first six bytes of a frame loaded as one word. */
static inline __u64 vmq_filter_key_word(const struct vmq_filter_key *key)
{
	__u64 word = key->vlan;
	int i;

	for (i = 5; i >= 0; i--)
		word = word << 8 | key->mac[i];
	return word;
}

/* The bucket of a key word: the top (64 - shift) bits of word * multiplier. */
static inline __u32 vmq_filter_bucket_index(__u64 key_word, __u64 multiplier, __u32 shift)
{
	return VMQ_TO_U32((key_word * multiplier) >> shift);
}

/* Value of the queue array, indexed by queue id. */
struct vmq_queue_entry {
	__u32 state;      /* enum vmq_queue_state */
	__u32 vlan_mode;  /* enum vmq_vlan_mode */
	__u32 sub_queues; /* 0 or 1: one; up to the classifier's sub_queue_slots (VMMQ) */
	__u32 reserved;
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
 * What a trace build of the classifier decided in its last run (map
 * vmq_decision, one entry; vmqctl trace): the reason a frame went to the
 * default queue, and the filter its key found, if the lookup was reached,
 * whatever happened next (a filter of a queue that is not running, a frame
 * too long for the queue, an empty socket slot). The live builds are
 * compiled without the code that writes it.
 */
struct vmq_trace_record {
	__u32 decided;   /* 1 once the program wrote the record */
	__u32 reason;    /* enum vmq_default_reason; VMQ_DEFAULT_REASON_COUNT when redirected */
	__u32 queue_id;  /* of the filter found; 0: no filter found */
	__u32 filter_id;
};

/*
 * The XSKMAP slot of sub-queue s of a queue, for uplink rx queue r, is
 * (queue_id * sub_queue_slots + s) * rxq_count + r: a redirect only reaches a
 * socket bound to the rx queue the frame arrived on, so a sub-queue has one
 * socket per rx queue. sub_queue_slots is set by the agent at load (1 when
 * no queue may have more than one sub-queue).
 */
static inline __u32 vmq_socket_slot(__u32 queue_id, __u32 sub_queue, __u32 sub_queue_slots, __u32 rxq_count,
				    __u32 rxq)
{
	return (queue_id * sub_queue_slots + sub_queue) * rxq_count + rxq;
}

/*
 * VMMQ: which of a queue's n sub-queues a frame takes, from a hash of its
 * flow, so that every frame of a flow takes the same one and stays in order.
 * The flow is the IPv4 or IPv6 source and destination address and protocol,
 * with the TCP, UDP or SCTP ports unless the packet is an IPv4 fragment;
 * frames that are not IP take sub-queue 0. vmq_flow_hash_word() folds one
 * 32-bit word into the hash, starting from VMQ_FLOW_HASH_SEED, in this order:
 * the address words as they lie in the header (source, then destination),
 * the protocol number, then the source and destination port fields as one
 * word. A word is the four bytes as the CPU loads them (little-endian: the
 * build is for x86-64 only).
 */
#define VMQ_FLOW_HASH_SEED 0x5bd1e995u

static inline __u32 vmq_flow_hash_word(__u32 hash, __u32 word)
{
	hash ^= word;
	hash *= 0x9e3779b1u;
	return hash ^ (hash >> 16);
}

/* Multiply-shift instead of a modulo: an even spread, no division. */
static inline __u32 vmq_sub_queue_of(__u32 hash, __u32 sub_queues)
{
	__u64 wide = hash;

	return sub_queues > 1 ? VMQ_TO_U32((wide * sub_queues) >> 32) : 0;
}

#ifdef __cplusplus
#define VMQ_STATIC_ASSERT static_assert
#else
#define VMQ_STATIC_ASSERT _Static_assert
#endif
VMQ_STATIC_ASSERT(sizeof(struct vmq_filter_key) == 8, "vmq_filter_key layout");
VMQ_STATIC_ASSERT(sizeof(struct vmq_filter_value) == 8, "vmq_filter_value layout");
VMQ_STATIC_ASSERT(sizeof(struct vmq_filter_slot) == 16, "vmq_filter_slot layout");
VMQ_STATIC_ASSERT(sizeof(struct vmq_filter_bucket) == 64, "vmq_filter_bucket layout: one cache line");
VMQ_STATIC_ASSERT(sizeof(struct vmq_queue_entry) == 16, "vmq_queue_entry layout");
VMQ_STATIC_ASSERT(sizeof(struct vmq_traffic) == 16, "vmq_traffic layout");
VMQ_STATIC_ASSERT(sizeof(struct vmq_filter_hits) == 8, "vmq_filter_hits layout");
VMQ_STATIC_ASSERT(sizeof(struct vmq_trace_record) == 16, "vmq_trace_record layout");

#endif /* VMQ_ABI_H */
