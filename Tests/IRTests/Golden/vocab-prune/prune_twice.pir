// RUN: vocab-prune{corpus=%S/tied.txt}
// TOKENIZER: tokenizer.json
// Pruning twice composes. The input is used_tokens.pir's result (kept source ids a b c d e Ġ cd de <|endoftext|>,
// new ids 0..8). Pruning it again with the corpus "cd" (the pruned tokenizer gives cd, new id 6) drops de (new id 7,
// source id 9): the id map, the recorded kept ids and the rows views name SOURCE ids ([0..5, 8, 12], as pruning the
// source with "cd" once gives, see dont_split_tied.pir), source_size stays the source checkpoint's 13, and the special
// is remapped again (8 -> 7).
// CHECK: // vocab-prune{corpus=%S/tied.txt}: vocabulary before = 9, vocabulary after = 8, merges before = 2, merges after = 1, corpus tokens = 1, kept by corpus = 1, kept specials = 1, kept bytes = 6, kept by merge chains = 0, parameters removed = 16
// CHECK: decision.0.kept = "[0..5, 8, 12]"
// CHECK: vocabulary bpe {size = 8, merges = 1, pre_tokenizer = "gpt2", source_size = 13} {
// CHECK-NEXT: special eos = 7 "<|endoftext|>"
// CHECK-NEXT: id_map = [0..5, 8, 12]
// CHECK-NEXT: }
// CHECK: param @token_embd.weight : tensor<8x8xf32> = load "token_embd.weight" q8_0 [13, 8] | rows([0..5, 8, 12])
// CHECK: param @output.weight : tensor<8x8xf32> = load "output.weight" q6_k [13, 8] | rows([0..5, 8, 12])
// CHECK: func @forward(%tokens: tensor<?xi32>) -> tensor<?x8xf32> {
// CHECK: %18 = linear %17, @output.weight : tensor<?x8xf32>
// CHECK-NEXT: return %18
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
  vocabulary bpe {size = 9, merges = 2, pre_tokenizer = "gpt2", source_size = 13} {
    special eos = 8 "<|endoftext|>"
    id_map = [0..5, 8..9, 12]
  }

  block 0 {hidden = 8, heads = 2, kv_heads = 1, head_dim = 4, ffn = 16}

  param @token_embd.weight : tensor<9x8xf32> = load "token_embd.weight" q8_0 [13, 8] | rows([0..5, 8..9, 12])
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
  param @output.weight : tensor<9x8xf32> = load "output.weight" q6_k [13, 8] | rows([0..5, 8..9, 12])

  func @forward(%tokens: tensor<?xi32>) -> tensor<?x9xf32> {
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
    %18 = linear %17, @output.weight : tensor<?x9xf32>
    return %18
  }
}
