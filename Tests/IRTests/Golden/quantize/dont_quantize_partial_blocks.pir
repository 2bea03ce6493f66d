// RUN: quantize{all=q4_0}
// Rows of 8 are not whole 32-element blocks: nothing is quantized, each matrix is counted as skipped.
// CHECK: : matrices quantized = 0, kept as source = 0, skipped = 9
// CHECK-NOT: quantize(
// pare ir v1
module @tiny-llama {
  metadata {
    architecture = "llama"
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
  param @blk.0.attn_k.weight : tensor<4x8xf32> = load "blk.0.attn_k.weight" q4_1 [4, 8] | unpermute_rope(heads = 1)
  param @blk.0.attn_v.weight : tensor<4x8xf32> = load "blk.0.attn_v.weight" q4_1 [4, 8]
  param @blk.0.attn_output.weight : tensor<8x8xf32> = load "blk.0.attn_output.weight" f32 [8, 8]
  param @blk.0.ffn_norm.weight : tensor<8xf32> = load "blk.0.ffn_norm.weight" f32 [8]
  param @blk.0.ffn_gate.weight : tensor<16x8xf32> = load "blk.0.ffn_gate.weight" q4_k [16, 8]
  param @blk.0.ffn_up.weight : tensor<16x8xf32> = load "blk.0.ffn_up.weight" q4_k [16, 8]
  param @blk.0.ffn_down.weight : tensor<8x16xf32> = load "blk.0.ffn_down.weight" q6_k [8, 16]
  param @output_norm.weight : tensor<8xf32> = load "output_norm.weight" f32 [8]
  param @output.weight : tensor<10x8xf32> = load "output.weight" q6_k [10, 8]

  func @forward(%tokens: tensor<?xi32>) -> tensor<?x10xf32> {
    %0 = embed @token_embd.weight, %tokens : tensor<?x8xf32>
    %1 = rms_norm %0, @blk.0.attn_norm.weight {eps = 1e-05} block 0 : tensor<?x8xf32>
    %2 = linear %1, @blk.0.attn_q.weight block 0 : tensor<?x8xf32>
    %3 = linear %1, @blk.0.attn_k.weight block 0 : tensor<?x4xf32>
    %4 = linear %1, @blk.0.attn_v.weight block 0 : tensor<?x4xf32>
    %5 = rope %2 {head_dim = 4, heads = 2, theta = 10000.0} block 0 : tensor<?x8xf32>
    %6 = rope %3 {head_dim = 4, heads = 1, theta = 10000.0} block 0 : tensor<?x4xf32>
    %7 = attention %5, %6, %4 {head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 0} block 0 : tensor<?x8xf32>
    %8 = linear %7, @blk.0.attn_output.weight block 0 : tensor<?x8xf32>
    %9 = add %0, %8 block 0 : tensor<?x8xf32>
    %10 = rms_norm %9, @blk.0.ffn_norm.weight {eps = 1e-05} block 0 : tensor<?x8xf32>
    %11 = linear %10, @blk.0.ffn_gate.weight block 0 : tensor<?x16xf32>
    %12 = linear %10, @blk.0.ffn_up.weight block 0 : tensor<?x16xf32>
    %13 = silu %11 block 0 : tensor<?x16xf32>
    %14 = mul %13, %12 block 0 : tensor<?x16xf32>
    %15 = linear %14, @blk.0.ffn_down.weight block 0 : tensor<?x8xf32>
    %16 = add %9, %15 block 0 : tensor<?x8xf32>
    %17 = rms_norm %16, @output_norm.weight {eps = 1e-05} : tensor<?x8xf32>
    %18 = linear %17, @output.weight : tensor<?x10xf32>
    return %18
  }
}
