// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Benchmark-only entry points into the production classifier code.
 *
 * BPF_PROG_TEST_RUN with `repeat` runs a program again and again on the same
 * buffer without restoring it. An access-mode hit strips the outer tag, so
 * from the second run on the classifier would see an untagged frame and
 * measure a miss. vmq_classify_retag runs the real classify() and then puts
 * the tag back, so every run classifies the tagged frame as it was sent.
 * The re-tag is extra work: strip_and_retag measures a strip plus a re-tag
 * alone, so its cost can be taken out of the access-mode figure.
 */
#include "../../bpf/vmq_classify.bpf.c"

/* Puts back the outer tag that strip_outer_tag() removed. */
static __always_inline int retag(struct xdp_md *ctx, __u32 outer_tag)
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
	__builtin_memcpy(data + MAC_PAIR_LEN, &outer_tag, VLAN_HLEN);
	return 0;
}

/* Only for tagged frames that hit an access-mode queue: a redirect then
 * means the classifier stripped the tag. */
SEC("xdp.frags")
int vmq_classify_retag(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 outer_tag;
	int action;

	if (data + MAC_PAIR_LEN + VLAN_HLEN > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(&outer_tag, data + MAC_PAIR_LEN, VLAN_HLEN);
	action = classify(ctx, data, data_end, false, false);
	if (action == XDP_REDIRECT && retag(ctx, outer_tag))
		return XDP_ABORTED;
	return action;
}

SEC("xdp.frags")
int strip_and_retag(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 outer_tag;

	if (data + MAC_PAIR_LEN + VLAN_HLEN > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(&outer_tag, data + MAC_PAIR_LEN, VLAN_HLEN);
	if (strip_outer_tag(ctx) || retag(ctx, outer_tag))
		return XDP_ABORTED;
	return XDP_PASS;
}
