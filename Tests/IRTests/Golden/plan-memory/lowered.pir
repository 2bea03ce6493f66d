// RUN: plan-memory
// The lowered one-block qwen2 (tied): every buffer is 16 floats per row (widths 8, 10 and 16 round up to 16).
// First fit in op order, releasing a value after its last reader: the plan needs 3 buffers (48 floats per row);
// one buffer per value would need the sum of the 9 widths (90). No op's result overlaps an operand: %2 reads %1 (16), %4 reads %0 and
// %3 (0, 16), %7 reads %4 and %6 (32, 16). The residual %4 stays at 32 while %5 and %6 reuse 0 and 16.
// CHECK: // plan-memory: buffers = 9, arena floats per row = 48, floats per row without reuse = 90, saved = "46.7%"
// CHECK: rope.theta = 10000.0
// CHECK-NEXT: memory.arena_row_floats = 48
// CHECK-NEXT: memory.no_reuse_row_floats = 90
// CHECK-NEXT: }
// CHECK: %0 = embed @token_embd.weight, %tokens {arena_offset = 0} : tensor<?x8xf32>
// CHECK-NEXT: %1 = qkv_rope %0, @blk.0.attn_qkv.weight, @blk.0.attn_qkv.bias {arena_offset = 16, eps = 1e-05, head_dim = 4, heads = 2, kv_heads = 1, theta = 10000.0} block 0 : tensor<?x16xf32>
// CHECK-NEXT: %2 = attention_qkv %1 {arena_offset = 32, head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 0} block 0 : tensor<?x8xf32>
// CHECK-NEXT: %3 = linear %2, @blk.0.attn_output.weight {arena_offset = 16} block 0 : tensor<?x8xf32>
// CHECK-NEXT: %4 = add %0, %3 {arena_offset = 32} block 0 : tensor<?x8xf32>
// CHECK-NEXT: %5 = swiglu %4, @blk.0.ffn_gate_up.weight {arena_offset = 0, eps = 1e-05} block 0 : tensor<?x16xf32>
// CHECK-NEXT: %6 = linear %5, @blk.0.ffn_down.weight {arena_offset = 16} block 0 : tensor<?x8xf32>
// CHECK-NEXT: %7 = add %4, %6 {arena_offset = 0} block 0 : tensor<?x8xf32>
// CHECK-NEXT: %8 = linear %7, @token_embd.weight.folded {arena_offset = 16, eps = 1e-05} : tensor<?x10xf32>
// CHECK-NEXT: return %8
// pare ir v1
module @tiny-llama {
  metadata {
    architecture = "qwen2"
    source.format = "gguf"
    source.path = "tiny.gguf"
    source.sha256 = "abababababababababababababababababababababababababababababababab"
    context_length = 64
    rope.theta = 10000.0
  }
  vocabulary bpe {size = 10, merges = 3, pre_tokenizer = "smollm"} {
    special bos = 1 "<|im_start|>"
    special eos = 2 "<|im_end|>"
  }

  block 0 {hidden = 8, heads = 2, kv_heads = 1, head_dim = 4, ffn = 16}

  param @token_embd.weight : tensor<10x8xf32> = load "token_embd.weight" q8_0 [10, 8]
  param @blk.0.attn_norm.weight : tensor<8xf32> = load "blk.0.attn_norm.weight" f32 [8]
  param @blk.0.attn_q.weight : tensor<8x8xf32> = load "blk.0.attn_q.weight" q4_1 [8, 8] | unpermute_rope(heads = 2)
  param @blk.0.attn_q.bias : tensor<8xf32> = load "blk.0.attn_q.bias" f32 [8]
  param @blk.0.attn_k.weight : tensor<4x8xf32> = load "blk.0.attn_k.weight" q4_1 [4, 8] | unpermute_rope(heads = 1)
  param @blk.0.attn_k.bias : tensor<4xf32> = load "blk.0.attn_k.bias" f32 [4]
  param @blk.0.attn_v.weight : tensor<4x8xf32> = load "blk.0.attn_v.weight" q4_1 [4, 8]
  param @blk.0.attn_v.bias : tensor<4xf32> = load "blk.0.attn_v.bias" f32 [4]
  param @blk.0.attn_output.weight : tensor<8x8xf32> = load "blk.0.attn_output.weight" f32 [8, 8]
  param @blk.0.ffn_norm.weight : tensor<8xf32> = load "blk.0.ffn_norm.weight" f32 [8]
  param @blk.0.ffn_gate.weight : tensor<16x8xf32> = load "blk.0.ffn_gate.weight" q4_k [16, 8]
  param @blk.0.ffn_up.weight : tensor<16x8xf32> = load "blk.0.ffn_up.weight" q4_k [16, 8]
  param @blk.0.ffn_down.weight : tensor<8x16xf32> = load "blk.0.ffn_down.weight" q6_k [8, 16]
  param @output_norm.weight : tensor<8xf32> = load "output_norm.weight" f32 [8]
  param @blk.0.attn_qkv.weight : tensor<16x8xf32> = load "blk.0.attn_q.weight" q4_1 [8, 8] | unpermute_rope(heads = 2) | append_rows(@blk.0.attn_k.weight, rows = 4) | append_rows(@blk.0.attn_v.weight, rows = 4) | scale_cols(@blk.0.attn_norm.weight)
  param @blk.0.attn_qkv.bias : tensor<16xf32> = load "blk.0.attn_q.bias" f32 [8] | append_rows(@blk.0.attn_k.bias, rows = 4) | append_rows(@blk.0.attn_v.bias, rows = 4)
  param @blk.0.ffn_gate_up.weight : tensor<32x8xf32> = load "blk.0.ffn_gate.weight" q4_k [16, 8] | append_rows(@blk.0.ffn_up.weight, rows = 16) | scale_cols(@blk.0.ffn_norm.weight)
  param @token_embd.weight.folded : tensor<10x8xf32> = load "token_embd.weight" q8_0 [10, 8] | scale_cols(@output_norm.weight)

  func @forward(%tokens: tensor<?xi32>) -> tensor<?x10xf32> {
    %0 = embed @token_embd.weight, %tokens : tensor<?x8xf32>
    %1 = qkv_rope %0, @blk.0.attn_qkv.weight, @blk.0.attn_qkv.bias {eps = 1e-05, head_dim = 4, heads = 2, kv_heads = 1, theta = 10000.0} block 0 : tensor<?x16xf32>
    %2 = attention_qkv %1 {head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 0} block 0 : tensor<?x8xf32>
    %3 = linear %2, @blk.0.attn_output.weight block 0 : tensor<?x8xf32>
    %4 = add %0, %3 block 0 : tensor<?x8xf32>
    %5 = swiglu %4, @blk.0.ffn_gate_up.weight {eps = 1e-05} block 0 : tensor<?x16xf32>
    %6 = linear %5, @blk.0.ffn_down.weight block 0 : tensor<?x8xf32>
    %7 = add %4, %6 block 0 : tensor<?x8xf32>
    %8 = linear %7, @token_embd.weight.folded {eps = 1e-05} : tensor<?x10xf32>
    return %8
  }
}
