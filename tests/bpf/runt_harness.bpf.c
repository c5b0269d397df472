// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Test-only entry point into the production classifier code: the kernel
 * never runs XDP on a frame shorter than an Ethernet header (test runs are
 * refused, bpf_xdp_adjust_head/tail stop at 14 bytes), so a runt can only be
 * shown to the parser by narrowing the end it is given. The wanted length
 * comes in 4 bytes of XDP metadata; the real frame is at least 22 bytes, so
 * even a parser that ignored its end could not read outside the buffer.
 */
#include "../../bpf/vmq_classify.bpf.c"

#define HARNESS_MAX_LEN 22

SEC("xdp.frags")
int vmq_classify_runt(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 *meta = (void *)(long)ctx->data_meta;
	__u32 len;

	if ((void *)(meta + 1) > data)
		return XDP_ABORTED;
	len = *meta;
	if (len >= HARNESS_MAX_LEN || data + HARNESS_MAX_LEN > data_end)
		return XDP_ABORTED;
	return classify(ctx, data, data + len, true, false);
}
