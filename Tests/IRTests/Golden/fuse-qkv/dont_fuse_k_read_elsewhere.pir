// RUN: fuse-qkv
// Block 0's k product is also read by another op (%5): fusing would drop the value it reads, so block 0 keeps its
// three products, ropes and attention. Block 1 still fuses.
// CHECK: // fuse-qkv: attention fused = 1, attention left = 1
// CHECK-NOT: blk.0.attn_qkv
// CHECK: param @blk.1.attn_qkv.weight
// CHECK: %2 = linear %1, @blk.0.attn_q.weight block 0 : tensor<?x8xf32>
// CHECK-NEXT: %3 = linear %1, @blk.0.attn_k.weight block 0 : tensor<?x4xf32>
// CHECK-NEXT: %4 = linear %1, @blk.0.attn_v.weight block 0 : tensor<?x4xf32>
// CHECK-NEXT: %5 = silu %3 : tensor<?x4xf32>
// CHECK-NEXT: %6 = rope %2 {head_dim = 4, heads = 2, theta = 10000.0} block 0 : tensor<?x8xf32>
// CHECK-NEXT: %7 = rope %3 {head_dim = 4, heads = 1, theta = 10000.0} block 0 : tensor<?x4xf32>
// CHECK-NEXT: %8 = attention %6, %7, %4 {head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 0} block 0 : tensor<?x8xf32>
// CHECK: %19 = qkv_rope %18, @blk.1.attn_qkv.weight {{.*}} block 1
// CHECK-NEXT: %20 = attention_qkv %19 {head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 1} block 1
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
  block 1 {hidden = 8, heads = 2, kv_heads = 1, head_dim = 4, ffn = 16}

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
  param @blk.1.attn_norm.weight : tensor<8xf32> = load "blk.1.attn_norm.weight" f32 [8]
  param @blk.1.attn_q.weight : tensor<8x8xf32> = load "blk.1.attn_q.weight" q4_1 [8, 8] | unpermute_rope(heads = 2)
  param @blk.1.attn_k.weight : tensor<4x8xf32> = load "blk.1.attn_k.weight" q4_1 [4, 8] | unpermute_rope(heads = 1)
  param @blk.1.attn_v.weight : tensor<4x8xf32> = load "blk.1.attn_v.weight" q4_1 [4, 8]
  param @blk.1.attn_output.weight : tensor<8x8xf32> = load "blk.1.attn_output.weight" f32 [8, 8]
  param @blk.1.ffn_norm.weight : tensor<8xf32> = load "blk.1.ffn_norm.weight" f32 [8]
  param @blk.1.ffn_gate.weight : tensor<16x8xf32> = load "blk.1.ffn_gate.weight" q4_k [16, 8]
  param @blk.1.ffn_up.weight : tensor<16x8xf32> = load "blk.1.ffn_up.weight" q4_k [16, 8]
  param @blk.1.ffn_down.weight : tensor<8x16xf32> = load "blk.1.ffn_down.weight" q6_k [8, 16]
  param @output_norm.weight : tensor<8xf32> = load "output_norm.weight" f32 [8]
  param @output.weight : tensor<10x8xf32> = load "output.weight" q6_k [10, 8]

  func @forward(%tokens: tensor<?xi32>) -> tensor<?x10xf32> {
    %0 = embed @token_embd.weight, %tokens : tensor<?x8xf32>
    %1 = rms_norm %0, @blk.0.attn_norm.weight {eps = 1e-05} block 0 : tensor<?x8xf32>
    %2 = linear %1, @blk.0.attn_q.weight block 0 : tensor<?x8xf32>
    %3 = linear %1, @blk.0.attn_k.weight block 0 : tensor<?x4xf32>
    %4 = linear %1, @blk.0.attn_v.weight block 0 : tensor<?x4xf32>
    %5 = silu %3 : tensor<?x4xf32>
    %6 = rope %2 {head_dim = 4, heads = 2, theta = 10000.0} block 0 : tensor<?x8xf32>
    %7 = rope %3 {head_dim = 4, heads = 1, theta = 10000.0} block 0 : tensor<?x4xf32>
    %8 = attention %6, %7, %4 {head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 0} block 0 : tensor<?x8xf32>
    %9 = linear %8, @blk.0.attn_output.weight block 0 : tensor<?x8xf32>
    %10 = add %0, %9 block 0 : tensor<?x8xf32>
    %11 = rms_norm %10, @blk.0.ffn_norm.weight {eps = 1e-05} block 0 : tensor<?x8xf32>
    %12 = linear %11, @blk.0.ffn_gate.weight block 0 : tensor<?x16xf32>
    %13 = linear %11, @blk.0.ffn_up.weight block 0 : tensor<?x16xf32>
    %14 = silu %12 block 0 : tensor<?x16xf32>
    %15 = mul %14, %13 block 0 : tensor<?x16xf32>
    %16 = linear %15, @blk.0.ffn_down.weight block 0 : tensor<?x8xf32>
    %17 = add %10, %16 block 0 : tensor<?x8xf32>
    %18 = rms_norm %17, @blk.1.attn_norm.weight {eps = 1e-05} block 1 : tensor<?x8xf32>
    %19 = linear %18, @blk.1.attn_q.weight block 1 : tensor<?x8xf32>
    %20 = linear %18, @blk.1.attn_k.weight block 1 : tensor<?x4xf32>
    %21 = linear %18, @blk.1.attn_v.weight block 1 : tensor<?x4xf32>
    %22 = rope %19 {head_dim = 4, heads = 2, theta = 10000.0} block 1 : tensor<?x8xf32>
    %23 = rope %20 {head_dim = 4, heads = 1, theta = 10000.0} block 1 : tensor<?x4xf32>
    %24 = attention %22, %23, %21 {head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 1} block 1 : tensor<?x8xf32>
    %25 = linear %24, @blk.1.attn_output.weight block 1 : tensor<?x8xf32>
    %26 = add %17, %25 block 1 : tensor<?x8xf32>
    %27 = rms_norm %26, @blk.1.ffn_norm.weight {eps = 1e-05} block 1 : tensor<?x8xf32>
    %28 = linear %27, @blk.1.ffn_gate.weight block 1 : tensor<?x16xf32>
    %29 = linear %27, @blk.1.ffn_up.weight block 1 : tensor<?x16xf32>
    %30 = silu %28 block 1 : tensor<?x16xf32>
    %31 = mul %30, %29 block 1 : tensor<?x16xf32>
    %32 = linear %31, @blk.1.ffn_down.weight block 1 : tensor<?x8xf32>
    %33 = add %26, %32 block 1 : tensor<?x8xf32>
    %34 = rms_norm %33, @output_norm.weight {eps = 1e-05} : tensor<?x8xf32>
    %35 = linear %34, @output.weight : tensor<?x10xf32>
    return %35
  }
}
