// RUN: quantize{all=keep,embedding=q8_0,head=q4_0}
// A tied table (read by embed and by the head) with two targets: the embedding keeps the table, re-encoded as q8_0;
// the head reads a copy, `.head`, re-encoded as q4_0.
// CHECK: : matrices quantized = 2, to q8_0 = 1, to q4_0 = 1, kept as source = 0, skipped = 0, copies for the head = 1
// CHECK: param @token_embd.weight : tensor<10x32xf32> = load "token_embd.weight" f16 [10, 32] | quantize(q8_0)
// CHECK: param @token_embd.weight.head : tensor<10x32xf32> = load "token_embd.weight" f16 [10, 32] | quantize(q4_0)
// CHECK: %0 = embed @token_embd.weight, %tokens
// CHECK: %18 = linear %17, @token_embd.weight.head
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

  block 0 {hidden = 32, heads = 2, kv_heads = 1, head_dim = 16, ffn = 64}

  param @token_embd.weight : tensor<10x32xf32> = load "token_embd.weight" f16 [10, 32]
  param @blk.0.attn_norm.weight : tensor<32xf32> = load "blk.0.attn_norm.weight" f32 [32]
  param @blk.0.attn_q.weight : tensor<32x32xf32> = load "blk.0.attn_q.weight" q4_1 [32, 32] | unpermute_rope(heads = 2)
  param @blk.0.attn_k.weight : tensor<16x32xf32> = load "blk.0.attn_k.weight" q4_1 [16, 32] | unpermute_rope(heads = 1)
  param @blk.0.attn_v.weight : tensor<16x32xf32> = load "blk.0.attn_v.weight" q4_1 [16, 32]
  param @blk.0.attn_output.weight : tensor<32x32xf32> = load "blk.0.attn_output.weight" f32 [32, 32]
  param @blk.0.ffn_norm.weight : tensor<32xf32> = load "blk.0.ffn_norm.weight" f32 [32]
  param @blk.0.ffn_gate.weight : tensor<64x32xf32> = load "blk.0.ffn_gate.weight" q4_k [64, 32]
  param @blk.0.ffn_up.weight : tensor<64x32xf32> = load "blk.0.ffn_up.weight" q4_k [64, 32]
  param @blk.0.ffn_down.weight : tensor<32x64xf32> = load "blk.0.ffn_down.weight" q6_k [32, 64]
  param @output_norm.weight : tensor<32xf32> = load "output_norm.weight" f32 [32]

  func @forward(%tokens: tensor<?xi32>) -> tensor<?x10xf32> {
    %0 = embed @token_embd.weight, %tokens : tensor<?x32xf32>
    %1 = rms_norm %0, @blk.0.attn_norm.weight {eps = 1e-05} block 0 : tensor<?x32xf32>
    %2 = linear %1, @blk.0.attn_q.weight block 0 : tensor<?x32xf32>
    %3 = linear %1, @blk.0.attn_k.weight block 0 : tensor<?x16xf32>
    %4 = linear %1, @blk.0.attn_v.weight block 0 : tensor<?x16xf32>
    %5 = rope %2 {head_dim = 16, heads = 2, theta = 10000.0} block 0 : tensor<?x32xf32>
    %6 = rope %3 {head_dim = 16, heads = 1, theta = 10000.0} block 0 : tensor<?x16xf32>
    %7 = attention %5, %6, %4 {head_dim = 16, heads = 2, kv_heads = 1, kv_slot = 0} block 0 : tensor<?x32xf32>
    %8 = linear %7, @blk.0.attn_output.weight block 0 : tensor<?x32xf32>
    %9 = add %0, %8 block 0 : tensor<?x32xf32>
    %10 = rms_norm %9, @blk.0.ffn_norm.weight {eps = 1e-05} block 0 : tensor<?x32xf32>
    %11 = linear %10, @blk.0.ffn_gate.weight block 0 : tensor<?x64xf32>
    %12 = linear %10, @blk.0.ffn_up.weight block 0 : tensor<?x64xf32>
    %13 = silu %11 block 0 : tensor<?x64xf32>
    %14 = mul %13, %12 block 0 : tensor<?x64xf32>
    %15 = linear %14, @blk.0.ffn_down.weight block 0 : tensor<?x32xf32>
    %16 = add %9, %15 block 0 : tensor<?x32xf32>
    %17 = rms_norm %16, @output_norm.weight {eps = 1e-05} : tensor<?x32xf32>
    %18 = linear %17, @token_embd.weight : tensor<?x10xf32>
    return %18
  }
}
