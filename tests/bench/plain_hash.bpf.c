// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Yardstick of the classifier benchmark (perf-baselines.md, "Classifier cost
 * alone"): parse Ethernet and at most one 802.1Q tag, look the destination
 * MAC and VLAN up in a BPF hash map, XDP_PASS on a hit and XDP_DROP on a miss.
 * No counters, no queue table, no redirect: the least a MAC/VLAN hash
 * classifier can do.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct plain_key {
	__u8 mac[6];
	__u16 vlan;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct plain_key);
	__type(value, __u32);
	__uint(max_entries, 65536);
} plain_filters SEC(".maps");

struct vlan_tag {
	__be16 tci;
	__be16 inner_proto;
};

SEC("xdp")
int plain_hash(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct vlan_tag *tag = (void *)(eth + 1);
	struct plain_key key;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	key.vlan = 0;
	if (eth->h_proto == bpf_htons(ETH_P_8021Q)) {
		if ((void *)(tag + 1) > data_end)
			return XDP_DROP;
		key.vlan = bpf_ntohs(tag->tci) & 0x0fff;
	}
	__builtin_memcpy(key.mac, eth->h_dest, ETH_ALEN);
	return bpf_map_lookup_elem(&plain_filters, &key) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
