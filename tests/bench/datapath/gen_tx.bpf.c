// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The traffic generator of the data-path benchmark. Run with BPF_PROG_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on the template frame: every run writes the
 * Ethernet and 802.1Q header of the next flow and sends the frame out of the
 * device it was "received" on (XDP_TX), so the veth's peer receives the
 * flows in turn.
 *
 * The whole 18-byte header is written on every run, not only the fields that
 * change: live-frames mode recycles its pages without restoring their bytes,
 * and a receiver that builds an skb on the page (the bridge path) moves the
 * MAC addresses over the tag in place when it strips it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define MAX_FLOWS 8
#define ETH_ALEN 6
#define ETH_P_8021Q 0x8100
#define ETH_P_IP 0x0800

struct tagged_header {
	__u8 dst[ETH_ALEN];
	__u8 src[ETH_ALEN];
	__be16 tpid;
	__be16 tci;
	__be16 inner_type;
};

/* The template's IPv4 header has no options: its UDP header follows. */
#define UDP_SOURCE_OFFSET (sizeof(struct tagged_header) + 20)
#define FIRST_SOURCE_PORT 40000

/* Set by the benchmark before load. */
const volatile __u32 flow_count = MAX_FLOWS;
const volatile __u8 flow_macs[MAX_FLOWS][ETH_ALEN];
const volatile __u16 flow_vlans[MAX_FLOWS];
const volatile __u8 source_mac[ETH_ALEN];
/* More than 1: each frame of a flow also takes the next of this many UDP
 * source ports (IP flows for VMMQ's flow hash); its UDP checksum is then
 * wrong, which no receiver here checks. */
const volatile __u32 source_ports = 1;

/* One generator thread pinned to one CPU writes these. */
__u32 next_flow;
__u32 next_port;
__u64 frames_sent;

SEC("xdp")
int gen_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct tagged_header *header = data;
	__u32 flow = next_flow;
	int i;

	if ((void *)(header + 1) > data_end)
		return XDP_ABORTED;
	if (flow >= flow_count || flow >= MAX_FLOWS)
		flow = 0;
	next_flow = flow + 1;
#pragma unroll
	for (i = 0; i < ETH_ALEN; i++) {
		header->dst[i] = flow_macs[flow][i];
		header->src[i] = source_mac[i];
	}
	header->tpid = bpf_htons(ETH_P_8021Q);
	header->tci = bpf_htons(flow_vlans[flow]);
	header->inner_type = bpf_htons(ETH_P_IP);
	if (source_ports > 1) {
		__be16 *sport = data + UDP_SOURCE_OFFSET;

		if ((void *)(sport + 1) > data_end)
			return XDP_ABORTED;
		if (next_port >= source_ports)
			next_port = 0;
		*sport = bpf_htons(FIRST_SOURCE_PORT + next_port);
		next_port++;
	}
	frames_sent++;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
