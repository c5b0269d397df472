// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq's receive classifier: the VMQ receive filters of an uplink in XDP.
 *
 * A frame whose (destination MAC, VLAN) matches a filter of a RUNNING queue is
 * redirected to that queue's AF_XDP socket for the rx queue it arrived on.
 * Everything else (no filter, queue not running, broadcast, multicast,
 * malformed, too long, no socket in the slot) is XDP_PASS: the default queue,
 * the host's software switch. Each decision moves one per-CPU counter.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

#include "vmq/abi.h"

/* Without the agent's sizes: a filter table for 1,024 filters. */
#define DEFAULT_FILTER_BUCKET_BITS 9

/* Set by the agent before load. */
const volatile __u32 rxq_count = 1;
const volatile __u32 sub_queue_slots = 1; /* XSKMAP rows per queue (vmq/abi.h) */
const volatile __u32 max_frame_len = 3840; /* receive buffer of a queue */
const volatile __u64 filter_hash_first = VMQ_FILTER_HASH_FIRST;
const volatile __u64 filter_hash_second = VMQ_FILTER_HASH_SECOND;
const volatile __u32 filter_bucket_shift = 64 - DEFAULT_FILTER_BUCKET_BITS;

/* The filter table of vmq/abi.h; 2^(64 - filter_bucket_shift) buckets. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct vmq_filter_bucket);
	__uint(max_entries, 1u << DEFAULT_FILTER_BUCKET_BITS);
} vmq_filters SEC(".maps");

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

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct vmq_filter_hits);
	__uint(max_entries, 1025);
} vmq_filter_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct vmq_traffic);
	__uint(max_entries, VMQ_DEFAULT_REASON_COUNT);
} vmq_default_stats SEC(".maps");

/* Written only by the trace builds (vmq/abi.h, vmq_trace_record). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct vmq_trace_record);
	__uint(max_entries, 1);
} vmq_decision SEC(".maps");

/* libxdp dispatcher: run after programs of default priority (filters see
 * frames first); XDP_PASS continues to the next program. libxdp finds a run
 * config by program name: each build has its own. */
struct {
	__uint(priority, 60);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(vmq_classify);

struct {
	__uint(priority, 60);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(vmq_classify_mb);

#define VLAN_HLEN 4
#define IP_MF 0x2000     /* more fragments */
#define IP_OFFSET 0x1fff /* fragment offset */
#define MAC_PAIR_LEN 12

struct vlan_tag {
	__be16 tci;
	__be16 inner_proto;
};

struct parsed_frame {
	__u16 vlan;   /* outer VID, or VMQ_VLAN_UNTAGGED_OR_ZERO */
	__u8 tagged;  /* an outer tag is present (VID 0 included) */
	__be16 proto; /* the EtherType after the tags, for the flow hash */
	void *l3;     /* where that protocol's header starts */
};

static __always_inline int is_vlan_proto(__be16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

/* Bounds-checked parse of Ethernet and up to two VLAN tags. Returns -1 when a
 * header is cut short: the frame is never read past data_end. */
static __always_inline int parse_frame(void *data, void *data_end, struct parsed_frame *out)
{
	struct ethhdr *eth = data;
	struct vlan_tag *tag;
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	out->vlan = VMQ_VLAN_UNTAGGED_OR_ZERO;
	out->tagged = 0;
	proto = eth->h_proto;
	out->proto = proto;
	out->l3 = eth + 1;
	if (!is_vlan_proto(proto))
		return 0;

	tag = (void *)(eth + 1);
	if ((void *)(tag + 1) > data_end)
		return -1;
	out->tagged = 1;
	out->vlan = bpf_ntohs(tag->tci) & 0x0fff;
	out->proto = tag->inner_proto;
	out->l3 = tag + 1;
	if (!is_vlan_proto(tag->inner_proto))
		return 0;
	if ((void *)(tag + 2) > data_end) /* inner tag of a QinQ frame */
		return -1;
	out->proto = tag[1].inner_proto;
	out->l3 = tag + 2;
	return 0;
}

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "frame_key_word() loads the MAC little-endian");

/* vmq_filter_key_word() of the destination MAC and `vlan`, from a 4-byte and
 * a 2-byte load (the caller checked the Ethernet header is there). */
static __always_inline __u64 frame_key_word(void *data, __u16 vlan)
{
	return (__u64)*(__u32 *)data | (__u64)*(__u16 *)(data + 4) << 32 | (__u64)vlan << 48;
}

#define READ_ONCE_U64(x) (*(const volatile __u64 *)&(x))

/* The lookup of vmq/abi.h's protocol in one bucket: key word, value, key word
 * again, each read once and in this order; the value only counts if both key
 * reads are `key`. The array lookup is inlined by the verifier. */
static __always_inline int find_in_bucket(__u32 index, __u64 key, struct vmq_filter_value *out)
{
	struct vmq_filter_bucket *bucket = bpf_map_lookup_elem(&vmq_filters, &index);
	union {
		__u64 word;
		struct vmq_filter_value fields;
	} value;

	if (!bucket)
		return 0;
#pragma unroll
	for (int i = 0; i < VMQ_FILTER_BUCKET_SLOTS; i++) {
		struct vmq_filter_slot *slot = &bucket->slot[i];

		if (READ_ONCE_U64(slot->key) != key)
			continue;
		value.word = READ_ONCE_U64(slot->value);
		if (READ_ONCE_U64(slot->key) != key)
			continue; /* rewritten meanwhile: the key may have moved on */
		*out = value.fields;
		return 1;
	}
	return 0;
}

/* At most eight slot compares, whatever the frame. Key word 0, MAC
 * 00:00:00:00:00:00 untagged, would match free slots: it is never a filter. */
static __always_inline int find_filter(__u64 key, struct vmq_filter_value *out)
{
	if (key == VMQ_FILTER_KEY_FREE)
		return 0;
	return find_in_bucket(vmq_filter_bucket_index(key, filter_hash_first, filter_bucket_shift), key, out) ||
	       find_in_bucket(vmq_filter_bucket_index(key, filter_hash_second, filter_bucket_shift), key, out);
}

static __always_inline int carries_ports(__u8 protocol)
{
	return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_SCTP;
}

/* Whether `len` bytes at `p` are inside the frame. The packet's own end is
 * checked too: the same in production, and what the verifier needs when the
 * runt harness narrows data_end. */
static __always_inline int fits(void *p, __u32 len, void *data_end, struct xdp_md *ctx)
{
	return p + len <= data_end && p + len <= (void *)(long)ctx->data_end;
}

/* vmq/abi.h's flow hash. An IP header cut short (or with a bad length) hashes
 * to 0; ports cut short are left out. A frame is never read past data_end. */
static __always_inline __u32 flow_hash(struct xdp_md *ctx, const struct parsed_frame *frame, void *data_end)
{
	__u32 hash = VMQ_FLOW_HASH_SEED;
	void *l4 = NULL;
	__u8 protocol;

	if (frame->proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = frame->l3;

		if (!fits(ip, sizeof(*ip), data_end, ctx) || ip->ihl < 5)
			return 0;
		hash = vmq_flow_hash_word(hash, ip->saddr);
		hash = vmq_flow_hash_word(hash, ip->daddr);
		protocol = ip->protocol;
		if (!(ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
			l4 = (void *)ip + ip->ihl * 4;
	} else if (frame->proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = frame->l3;

		if (!fits(ip6, sizeof(*ip6), data_end, ctx))
			return 0;
#pragma unroll
		for (int i = 0; i < 4; i++)
			hash = vmq_flow_hash_word(hash, ip6->saddr.in6_u.u6_addr32[i]);
#pragma unroll
		for (int i = 0; i < 4; i++)
			hash = vmq_flow_hash_word(hash, ip6->daddr.in6_u.u6_addr32[i]);
		protocol = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return 0;
	}
	hash = vmq_flow_hash_word(hash, protocol);
	if (l4 && carries_ports(protocol) && fits(l4, 4, data_end, ctx))
		hash = vmq_flow_hash_word(hash, *(__u32 *)l4);
	return hash;
}

static __always_inline void count_traffic(void *map, __u32 index, __u64 bytes)
{
	struct vmq_traffic *t = bpf_map_lookup_elem(map, &index);

	if (t) {
		t->packets++;
		t->bytes += bytes;
	}
}

/*
 * A single-buffer program finds the whole frame between data and data_end; a
 * multi-buffer one must ask the kernel, a call the verifier cannot inline.
 */
static __always_inline __u32 frame_len(struct xdp_md *ctx, bool multi_buffer)
{
	if (multi_buffer)
		return bpf_xdp_get_buff_len(ctx);
	return ctx->data_end - ctx->data;
}

/* A trace build's record of its decision; `filter` is what the frame's key
 * found, NULL before the lookup or when it found nothing. `trace` is a
 * constant of each build: the live builds contain none of this code. */
static __always_inline void record_decision(bool trace, __u32 reason, const struct vmq_filter_value *filter)
{
	struct vmq_trace_record *record;
	__u32 zero = 0;

	if (!trace)
		return;
	record = bpf_map_lookup_elem(&vmq_decision, &zero);
	if (!record)
		return;
	record->decided = 1;
	record->reason = reason;
	record->queue_id = filter ? filter->queue_id : 0;
	record->filter_id = filter ? filter->filter_id : 0;
}

static __always_inline int to_default_queue(struct xdp_md *ctx, __u32 reason, const struct vmq_filter_value *filter,
					    bool multi_buffer, bool trace)
{
	record_decision(trace, reason, filter);
	count_traffic(&vmq_default_stats, reason, frame_len(ctx, multi_buffer));
	return XDP_PASS;
}

/* Moves the MAC addresses over the outer tag and drops the tag's 4 bytes. */
static __always_inline int strip_outer_tag(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 macs[MAC_PAIR_LEN];

	if (data + MAC_PAIR_LEN + VLAN_HLEN > data_end)
		return -1;
	__builtin_memcpy(macs, data, MAC_PAIR_LEN);
	__builtin_memcpy(data + VLAN_HLEN, macs, MAC_PAIR_LEN);
	return bpf_xdp_adjust_head(ctx, VLAN_HLEN);
}

/*
 * The whole decision for one frame. `data_end` is ctx->data_end in production;
 * the runt test harness (tests/bpf) passes a nearer end, because the kernel
 * never runs an XDP program on a frame shorter than an Ethernet header.
 */
static __always_inline int classify(struct xdp_md *ctx, void *data, void *data_end, bool multi_buffer,
				    bool trace)
{
	struct vmq_filter_value filter;
	struct vmq_queue_entry *queue;
	struct vmq_filter_hits *hits;
	struct parsed_frame frame;
	__u32 queue_id, filter_id, sub_queues, sub_queue, slot, len;
	__u64 key;
	int strip;

	if (parse_frame(data, data_end, &frame) < 0)
		return to_default_queue(ctx, VMQ_DEFAULT_MALFORMED, NULL, multi_buffer, trace);

	key = frame_key_word(data, frame.vlan);
	if (key & 1) /* group bit of the first MAC octet: broadcast and multicast */
		return to_default_queue(ctx, VMQ_DEFAULT_BROADCAST_MULTICAST, NULL, multi_buffer, trace);

	if (!find_filter(key, &filter))
		return to_default_queue(ctx, VMQ_DEFAULT_NO_FILTER, NULL, multi_buffer, trace);
	queue_id = filter.queue_id;
	filter_id = filter.filter_id;

	queue = bpf_map_lookup_elem(&vmq_queues, &queue_id);
	if (!queue || queue->state != VMQ_QUEUE_RUNNING)
		return to_default_queue(ctx, VMQ_DEFAULT_QUEUE_NOT_RUNNING, &filter, multi_buffer, trace);

	strip = frame.tagged && queue->vlan_mode == VMQ_VLAN_MODE_ACCESS;
	len = frame_len(ctx, multi_buffer) - (strip ? VLAN_HLEN : 0);
	if (len > max_frame_len)
		return to_default_queue(ctx, VMQ_DEFAULT_OVERSIZE, &filter, multi_buffer, trace);
	if (ctx->rx_queue_index >= rxq_count)
		return to_default_queue(ctx, VMQ_DEFAULT_EMPTY_SLOT, &filter, multi_buffer, trace);

	/* bpf_redirect_map() only records the target (or says the slot is
	 * empty): the tag comes off once the frame is known to leave. */
	/* Never more sub-queues than the queue's rows: another queue's row is
	 * another VM's. */
	sub_queues = queue->sub_queues < sub_queue_slots ? queue->sub_queues : sub_queue_slots;
	sub_queue = sub_queues > 1 ? vmq_sub_queue_of(flow_hash(ctx, &frame, data_end), sub_queues) : 0;
	slot = vmq_socket_slot(queue_id, sub_queue, sub_queue_slots, rxq_count, ctx->rx_queue_index);
	if (bpf_redirect_map(&vmq_xsks, slot, XDP_PASS) != XDP_REDIRECT)
		return to_default_queue(ctx, VMQ_DEFAULT_EMPTY_SLOT, &filter, multi_buffer, trace);
	if (strip && strip_outer_tag(ctx)) /* the parse saw the tag: cannot fail */
		return to_default_queue(ctx, VMQ_DEFAULT_MALFORMED, &filter, multi_buffer, trace);

	record_decision(trace, VMQ_DEFAULT_REASON_COUNT, &filter);
	count_traffic(&vmq_queue_stats, queue_id, len);
	hits = bpf_map_lookup_elem(&vmq_filter_stats, &filter_id);
	if (hits)
		hits->hits++;
	return XDP_REDIRECT;
}

/* For an uplink whose MTU fits one buffer (the standard 1500 bytes). */
SEC("xdp")
int vmq_classify(struct xdp_md *ctx)
{
	return classify(ctx, (void *)(long)ctx->data, (void *)(long)ctx->data_end, false, false);
}

/* For a jumbo-MTU uplink: frames may span several buffers. */
SEC("xdp.frags")
int vmq_classify_mb(struct xdp_md *ctx)
{
	return classify(ctx, (void *)(long)ctx->data, (void *)(long)ctx->data_end, true, false);
}

/* The trace builds (vmqctl trace): the same decisions, each recorded in
 * vmq_decision. Only test runs reach them; they are never attached. */
SEC("xdp")
int vmq_trace(struct xdp_md *ctx)
{
	return classify(ctx, (void *)(long)ctx->data, (void *)(long)ctx->data_end, false, true);
}

SEC("xdp.frags")
int vmq_trace_mb(struct xdp_md *ctx)
{
	return classify(ctx, (void *)(long)ctx->data, (void *)(long)ctx->data_end, true, true);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
