// RUN: roundtrip
// After pruning: the vocabulary keeps 6 of the source's 10 tokens (id map, source_size), block 0 keeps one query
// head and 12 of 16 FFN channels. Views select rows and columns of the source tensors; the decisions are recorded in metadata.
// CHECK: prune.vocab.kept = 6
// CHECK-NEXT: prune.heads.block.0 = "kept [1] of 2"
// CHECK: prune.kl.mean = 0.00123
// CHECK-NEXT: prune.seed = -1
// CHECK-NEXT: prune.verified = true
// CHECK: vocabulary bpe {size = 6, merges = 3, pre_tokenizer = "smollm", source_size = 10} {
// CHECK: special pad = 5 "<pad>"
// CHECK-NEXT: id_map = [0..3, 7, 9]
// CHECK: block 0 {hidden = 8, heads = 1, kv_heads = 1, head_dim = 4, ffn = 12}
// CHECK: param @token_embd.weight : tensor<6x8xf32> = load "token_embd.weight" q8_0 [10, 8] | rows([0..3, 7, 9])
// CHECK: @blk.0.attn_q.weight : tensor<4x8xf32> = load "blk.0.attn_q.weight" q4_1 [8, 8] | unpermute_rope(heads = 2) | rows([4..7])
// CHECK: @blk.0.attn_output.weight : tensor<8x4xf32> = {{.*}} [8, 8] | cols([4..7])
// CHECK: @blk.0.ffn_down.weight : tensor<8x12xf32> = load "blk.0.ffn_down.weight" q6_k [8, 16] | cols([0..5, 10..15])
// CHECK: %14 = mul %13, %12 block 0 : tensor<?x12xf32>
// CHECK: return %18
// pare ir v1
module @tiny-llama {
  metadata {
    architecture = "llama"
    source.format = "gguf"
    source.path = "tiny.gguf"
    source.sha256 = "abababababababababababababababababababababababababababababababab"
    context_length = 64
    rope.theta = 10000.0
    prune.vocab.kept = 6
    prune.heads.block.0 = "kept [1] of 2"
    prune.ffn.block.0 = "kept [0..5, 10..15] of 16"
    prune.kl.mean = 0.00123
    prune.seed = -1
    prune.verified = true
  }
  vocabulary bpe {size = 6, merges = 3, pre_tokenizer = "smollm", source_size = 10} {
    special bos = 1 "<|im_start|>"
    special eos = 2 "<|im_end|>"
    special pad = 5 "<pad>"
    id_map = [0..3, 7, 9]
  }

  block 0 {hidden = 8, heads = 1, kv_heads = 1, head_dim = 4, ffn = 12}

  param @token_embd.weight : tensor<6x8xf32> = load "token_embd.weight" q8_0 [10, 8] | rows([0..3, 7, 9])
  param @blk.0.attn_norm.weight : tensor<8xf32> = load "blk.0.attn_norm.weight" f32 [8]
  param @blk.0.attn_q.weight : tensor<4x8xf32> = load "blk.0.attn_q.weight" q4_1 [8, 8] | unpermute_rope(heads = 2) | rows([4..7])
  param @blk.0.attn_k.weight : tensor<4x8xf32> = load "blk.0.attn_k.weight" q4_1 [4, 8] | unpermute_rope(heads = 1)
  param @blk.0.attn_v.weight : tensor<4x8xf32> = load "blk.0.attn_v.weight" q4_1 [4, 8]
  param @blk.0.attn_output.weight : tensor<8x4xf32> = load "blk.0.attn_output.weight" f32 [8, 8] | cols([4..7])
  param @blk.0.ffn_norm.weight : tensor<8xf32> = load "blk.0.ffn_norm.weight" f32 [8]
  param @blk.0.ffn_gate.weight : tensor<12x8xf32> = load "blk.0.ffn_gate.weight" q4_k [16, 8] | rows([0..5, 10..15])
  param @blk.0.ffn_up.weight : tensor<12x8xf32> = load "blk.0.ffn_up.weight" q4_k [16, 8] | rows([0..5, 10..15])
  param @blk.0.ffn_down.weight : tensor<8x12xf32> = load "blk.0.ffn_down.weight" q6_k [8, 16] | cols([0..5, 10..15])
  param @output_norm.weight : tensor<8xf32> = load "output_norm.weight" f32 [8]
  param @output.weight : tensor<6x8xf32> = load "output.weight" q6_k [10, 8] | rows([0..3, 7, 9])

  func @forward(%tokens: tensor<?xi32>) -> tensor<?x6xf32> {
    %0 = embed @token_embd.weight, %tokens : tensor<?x8xf32>
    %1 = rms_norm %0, @blk.0.attn_norm.weight {eps = 1e-05} block 0 : tensor<?x8xf32>
    %2 = linear %1, @blk.0.attn_q.weight block 0 : tensor<?x4xf32>
    %3 = linear %1, @blk.0.attn_k.weight block 0 : tensor<?x4xf32>
    %4 = linear %1, @blk.0.attn_v.weight block 0 : tensor<?x4xf32>
    %5 = rope %2 {head_dim = 4, heads = 1, theta = 10000.0} block 0 : tensor<?x4xf32>
    %6 = rope %3 {head_dim = 4, heads = 1, theta = 10000.0} block 0 : tensor<?x4xf32>
    %7 = attention %5, %6, %4 {head_dim = 4, heads = 1, kv_heads = 1, kv_slot = 0} block 0 : tensor<?x4xf32>
    %8 = linear %7, @blk.0.attn_output.weight block 0 : tensor<?x8xf32>
    %9 = add %0, %8 block 0 : tensor<?x8xf32>
    %10 = rms_norm %9, @blk.0.ffn_norm.weight {eps = 1e-05} block 0 : tensor<?x8xf32>
    %11 = linear %10, @blk.0.ffn_gate.weight block 0 : tensor<?x12xf32>
    %12 = linear %10, @blk.0.ffn_up.weight block 0 : tensor<?x12xf32>
    %13 = silu %11 block 0 : tensor<?x12xf32>
    %14 = mul %13, %12 block 0 : tensor<?x12xf32>
    %15 = linear %14, @blk.0.ffn_down.weight block 0 : tensor<?x8xf32>
    %16 = add %9, %15 block 0 : tensor<?x8xf32>
    %17 = rms_norm %16, @output_norm.weight {eps = 1e-05} : tensor<?x8xf32>
    %18 = linear %17, @output.weight : tensor<?x6xf32>
    return %18
  }
}
