// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * EXPERIMENT, NOT PRODUCTION CODE. A copy of bpf/vmq_classify.bpf.c with
 * compile-time switches, so the benchmark can show what each part of the
 * classifier costs and what a change would buy.
 *
 * tests/bench/CMakeLists.txt lists the variants: for each it generates a
 * vmq_exp_<name>.bpf.c that defines its switches and includes this file.
 * With no switch set the program is the production classifier (variant
 * "copy" checks that it measures the same).
 *
 * Switches (all default 0):
 *  EXP_NO_COUNTERS       no per-CPU counter on any path (cost of counting)
 *  EXP_MERGED_COUNTERS   one per-CPU entry per filter {packets, bytes} instead
 *                        of a queue entry plus a filter entry: one lookup per
 *                        hit; the agent would sum a queue's filters
 *  EXP_LINEAR_LEN        data_end - data instead of bpf_xdp_get_buff_len()
 *                        (only right for a program that never sees frags)
 *  EXP_QUEUE_IN_FILTER   the queue's state and VLAN mode live in the filter
 *                        value: no vmq_queues lookup (the agent would rewrite
 *                        a queue's filters when the queue changes)
 *  EXP_FAKE_REDIRECT     return XDP_REDIRECT without bpf_redirect_map(): only
 *                        measures the helper, not a proposal
 *  EXP_NO_PREALLOC       vmq_filters with BPF_F_NO_PREALLOC
 *  EXP_BUCKET_TABLE      vmq_filters is an ARRAY of 64-byte buckets of four
 *                        {key, value} slots, two candidate buckets per key
 *                        from multiplicative hashes: the lookup is inlined by
 *                        the verifier, no helper call, no jhash
 *  EXP_EXTRA_JHASH       also computes jhash2 of the 8-byte key in BPF and
 *                        discards it: the price of the kernel's hash function
 *  EXP_WIDE_LOADS        EtherType and MAC read with 2- and 4-byte loads and
 *                        the key built in a register, instead of the byte
 *                        loads clang emits for the packed struct ethhdr and
 *                        the 6-byte memcpy
 */
#ifndef EXP_NO_COUNTERS
#define EXP_NO_COUNTERS 0
#endif
#ifndef EXP_MERGED_COUNTERS
#define EXP_MERGED_COUNTERS 0
#endif
#ifndef EXP_LINEAR_LEN
#define EXP_LINEAR_LEN 0
#endif
#ifndef EXP_QUEUE_IN_FILTER
#define EXP_QUEUE_IN_FILTER 0
#endif
#ifndef EXP_FAKE_REDIRECT
#define EXP_FAKE_REDIRECT 0
#endif
#ifndef EXP_NO_PREALLOC
#define EXP_NO_PREALLOC 0
#endif
#ifndef EXP_BUCKET_TABLE
#define EXP_BUCKET_TABLE 0
#endif
#ifndef EXP_EXTRA_JHASH
#define EXP_EXTRA_JHASH 0
#endif
#ifndef EXP_WIDE_LOADS
#define EXP_WIDE_LOADS 0
#endif

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "vmq/abi.h"
#include "exp_layout.h"

/* Set by the agent before load. */
const volatile __u32 rxq_count = 1;
const volatile __u32 max_frame_len = 3840; /* receive buffer of a queue */

#if EXP_QUEUE_IN_FILTER
typedef struct exp_filter_value filter_value_t;
#else
typedef struct vmq_filter_value filter_value_t;
#endif

#if EXP_BUCKET_TABLE
struct exp_slot {
	__u64 key;
	filter_value_t value;
};

struct exp_bucket {
	struct exp_slot slot[EXP_BUCKET_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct exp_bucket);
	__uint(max_entries, EXP_BUCKETS);
} vmq_filters SEC(".maps");
#else
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct vmq_filter_key);
	__type(value, filter_value_t);
	__uint(max_entries, 1024);
#if EXP_NO_PREALLOC
	__uint(map_flags, BPF_F_NO_PREALLOC);
#endif
} vmq_filters SEC(".maps");
#endif

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct vmq_queue_entry);
	__uint(max_entries, 256);
} vmq_queues SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 256);
} vmq_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct vmq_traffic);
	__uint(max_entries, 256);
} vmq_queue_stats SEC(".maps");

#if EXP_MERGED_COUNTERS
typedef struct vmq_traffic filter_hits_t;
#else
typedef struct vmq_filter_hits filter_hits_t;
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, filter_hits_t);
	__uint(max_entries, 1025);
} vmq_filter_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct vmq_traffic);
	__uint(max_entries, VMQ_DEFAULT_REASON_COUNT);
} vmq_default_stats SEC(".maps");

#define VLAN_HLEN 4
#define MAC_PAIR_LEN 12

struct vlan_tag {
	__be16 tci;
	__be16 inner_proto;
};

struct parsed_frame {
	__u16 vlan;
	__u8 tagged;
};

static __always_inline int is_vlan_proto(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

static __always_inline int parse_frame(void *data, void *data_end, struct parsed_frame *out)
{
	struct ethhdr *eth = data;
	struct vlan_tag *tag;
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	out->vlan = VMQ_VLAN_UNTAGGED_OR_ZERO;
	out->tagged = 0;
#if EXP_WIDE_LOADS
	proto = *(__be16 *)(data + 12);
#else
	proto = eth->h_proto;
#endif
	if (!is_vlan_proto(proto))
		return 0;

	tag = (void *)(eth + 1);
	if ((void *)(tag + 1) > data_end)
		return -1;
	out->tagged = 1;
	out->vlan = bpf_ntohs(tag->tci) & 0x0fff;
	if (!is_vlan_proto(tag->inner_proto))
		return 0;
	if ((void *)(tag + 2) > data_end)
		return -1;
	return 0;
}

static __always_inline __u32 frame_len(struct xdp_md *ctx)
{
#if EXP_LINEAR_LEN
	return ctx->data_end - ctx->data;
#else
	return bpf_xdp_get_buff_len(ctx);
#endif
}

static __always_inline void count_traffic(void *map, __u32 index, __u64 bytes)
{
#if !EXP_NO_COUNTERS
	struct vmq_traffic *t = bpf_map_lookup_elem(map, &index);

	if (t) {
		t->packets++;
		t->bytes += bytes;
	}
#endif
}

static __always_inline void count_hit(__u32 queue_id, __u32 filter_id, __u64 bytes)
{
#if EXP_NO_COUNTERS
	return;
#elif EXP_MERGED_COUNTERS
	count_traffic(&vmq_filter_stats, filter_id, bytes);
#else
	struct vmq_filter_hits *hits;

	count_traffic(&vmq_queue_stats, queue_id, bytes);
	hits = bpf_map_lookup_elem(&vmq_filter_stats, &filter_id);
	if (hits)
		hits->hits++;
#endif
}

static __always_inline int to_default_queue(struct xdp_md *ctx, __u32 reason)
{
#if !EXP_NO_COUNTERS
	count_traffic(&vmq_default_stats, reason, frame_len(ctx));
#endif
	return XDP_PASS;
}

static __always_inline int strip_outer_tag(struct xdp_md *ctx, __u32 *saved_tag)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 macs[MAC_PAIR_LEN];

	if (data + MAC_PAIR_LEN + VLAN_HLEN > data_end)
		return -1;
	__builtin_memcpy(macs, data, MAC_PAIR_LEN);
	__builtin_memcpy(saved_tag, data + MAC_PAIR_LEN, VLAN_HLEN);
	__builtin_memcpy(data + VLAN_HLEN, macs, MAC_PAIR_LEN);
	return bpf_xdp_adjust_head(ctx, VLAN_HLEN);
}

static __always_inline int restore_outer_tag(struct xdp_md *ctx, __u32 saved_tag)
{
	void *data, *data_end;
	__u8 macs[MAC_PAIR_LEN];

	if (bpf_xdp_adjust_head(ctx, -VLAN_HLEN))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + MAC_PAIR_LEN + VLAN_HLEN > data_end)
		return -1;
	__builtin_memcpy(macs, data + VLAN_HLEN, MAC_PAIR_LEN);
	__builtin_memcpy(data, macs, MAC_PAIR_LEN);
	__builtin_memcpy(data + MAC_PAIR_LEN, &saved_tag, VLAN_HLEN);
	return 0;
}

#if EXP_EXTRA_JHASH
static __always_inline __u32 rol32(__u32 word, unsigned int shift)
{
	return (word << shift) | (word >> ((-shift) & 31));
}

/* Bob Jenkins' lookup3 final mix for two words, as the kernel's jhash2()
 * does for an 8-byte key (initval as jhash2's, seed 0). */
static __always_inline __u32 jhash2_two_words(__u32 k0, __u32 k1)
{
	__u32 a = 0xdeadbeef + (2 << 2), b = a, c = a;

	b += k1;
	a += k0;
	c ^= b; c -= rol32(b, 14);
	a ^= c; a -= rol32(c, 11);
	b ^= a; b -= rol32(a, 25);
	c ^= b; c -= rol32(b, 16);
	a ^= c; a -= rol32(c, 4);
	b ^= a; b -= rol32(a, 14);
	c ^= b; c -= rol32(b, 24);
	return c;
}
#endif

#if EXP_BUCKET_TABLE
static __always_inline filter_value_t *find_in_bucket(__u32 index, __u64 key)
{
	struct exp_bucket *bucket = bpf_map_lookup_elem(&vmq_filters, &index);

	if (!bucket)
		return NULL;
#pragma unroll
	for (int i = 0; i < EXP_BUCKET_SLOTS; i++) {
		if (bucket->slot[i].key == key)
			return &bucket->slot[i].value;
	}
	return NULL;
}

static __always_inline filter_value_t *find_filter(struct vmq_filter_key *key)
{
	__u64 packed;
	filter_value_t *value;

	__builtin_memcpy(&packed, key, sizeof(packed));
	value = find_in_bucket(exp_first_bucket(packed), packed);
	if (value)
		return value;
	return find_in_bucket(exp_second_bucket(packed), packed);
}
#else
static __always_inline filter_value_t *find_filter(struct vmq_filter_key *key)
{
	return bpf_map_lookup_elem(&vmq_filters, key);
}
#endif

static __always_inline int redirect_to_socket(__u32 slot)
{
#if EXP_FAKE_REDIRECT
	return XDP_REDIRECT;
#else
	return bpf_redirect_map(&vmq_xsks, slot, XDP_PASS);
#endif
}

static __always_inline int classify(struct xdp_md *ctx, void *data, void *data_end)
{
	filter_value_t *filter;
	struct vmq_queue_entry queue;
	union {
		struct vmq_filter_key fields;
		__u64 word;
	} key;
	struct parsed_frame frame;
	__u32 queue_id, filter_id, slot, len, saved_tag = 0;
	int strip;

	if (parse_frame(data, data_end, &frame) < 0)
		return to_default_queue(ctx, VMQ_DEFAULT_MALFORMED);

#if EXP_WIDE_LOADS
	key.word = (__u64)*(__u32 *)data | (__u64)*(__u16 *)(data + 4) << 32 | (__u64)frame.vlan << 48;
	if (key.word & 1)
		return to_default_queue(ctx, VMQ_DEFAULT_BROADCAST_MULTICAST);
#else
	__builtin_memcpy(key.fields.mac, data, ETH_ALEN);
	if (key.fields.mac[0] & 1)
		return to_default_queue(ctx, VMQ_DEFAULT_BROADCAST_MULTICAST);
	key.fields.vlan = frame.vlan;
#endif

#if EXP_EXTRA_JHASH
	{
		__u32 words[2];

		__builtin_memcpy(words, &key.fields, sizeof(words));
		if (jhash2_two_words(words[0], words[1]) == 0x5eed5eed)
			return XDP_ABORTED; /* keeps the hash from being optimised away */
	}
#endif

	filter = find_filter(&key.fields);
	if (!filter)
		return to_default_queue(ctx, VMQ_DEFAULT_NO_FILTER);
	queue_id = filter->queue_id;
	filter_id = filter->filter_id;

#if EXP_QUEUE_IN_FILTER
	queue.state = filter->queue_state;
	queue.vlan_mode = filter->vlan_mode;
#else
	{
		struct vmq_queue_entry *entry = bpf_map_lookup_elem(&vmq_queues, &queue_id);

		if (!entry)
			return to_default_queue(ctx, VMQ_DEFAULT_QUEUE_NOT_RUNNING);
		queue = *entry;
	}
#endif
	if (queue.state != VMQ_QUEUE_RUNNING)
		return to_default_queue(ctx, VMQ_DEFAULT_QUEUE_NOT_RUNNING);

	strip = frame.tagged && queue.vlan_mode == VMQ_VLAN_MODE_ACCESS;
	len = frame_len(ctx) - (strip ? VLAN_HLEN : 0);
	if (len > max_frame_len)
		return to_default_queue(ctx, VMQ_DEFAULT_OVERSIZE);
	if (ctx->rx_queue_index >= rxq_count)
		return to_default_queue(ctx, VMQ_DEFAULT_EMPTY_SLOT);

	if (strip && strip_outer_tag(ctx, &saved_tag))
		return to_default_queue(ctx, VMQ_DEFAULT_MALFORMED);

	slot = queue_id * rxq_count + ctx->rx_queue_index;
	if (redirect_to_socket(slot) != XDP_REDIRECT) {
		if (strip && restore_outer_tag(ctx, saved_tag))
			return XDP_ABORTED;
		return to_default_queue(ctx, VMQ_DEFAULT_EMPTY_SLOT);
	}

	count_hit(queue_id, filter_id, len);
	return XDP_REDIRECT;
}

SEC("xdp.frags")
int vmq_classify(struct xdp_md *ctx)
{
	return classify(ctx, (void *)(long)ctx->data, (void *)(long)ctx->data_end);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
