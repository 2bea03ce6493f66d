// RUN: verify
// O1-O4 on the lowered ops: qkv_rope's weight must have (heads + 2*kv_heads)*head_dim rows and its bias as many;
// attention_qkv reads a value of that width; swiglu's weight has an even number of rows and swiglu takes no bias;
// qkv_rope needs kv_heads (and takes no kv_slot); eps and arena_offset, on any op that takes them, are >= 0.
// CHECK: error: qkv_rope weight @bad.qkv must be [16, 8], found [12, 8]
// CHECK-NEXT: error: attention_qkv input width 8 != (heads + 2*kv_heads) * head_dim = 16
// CHECK-NEXT: error: add attribute 'arena_offset' must be non-negative, found -16
// CHECK-NEXT: error: swiglu weight @bad.gate_up must be [2*ffn, 8] (gate rows, then up rows), found [31, 8]
// CHECK-NEXT: warning: unknown attribute 'kv_slot' on qkv_rope is ignored
// CHECK: error: swiglu takes (%x, @weight), found (%, @, @)
// pare ir v1
module @tiny-llama {
  metadata {
    architecture = "qwen2"
    source.format = "gguf"
    source.path = "tiny.gguf"
    source.sha256 = "abababababababababababababababababababababababababababababababab"
    context_length = 64
    rope.theta = 10000.0
    memory.arena_row_floats = 48
    memory.no_reuse_row_floats = 162
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
  param @blk.1.attn_norm.weight : tensor<8xf32> = load "blk.1.attn_norm.weight" f32 [8]
  param @blk.1.attn_q.weight : tensor<8x8xf32> = load "blk.1.attn_q.weight" q4_1 [8, 8] | unpermute_rope(heads = 2)
  param @blk.1.attn_q.bias : tensor<8xf32> = load "blk.1.attn_q.bias" f32 [8]
  param @blk.1.attn_k.weight : tensor<4x8xf32> = load "blk.1.attn_k.weight" q4_1 [4, 8] | unpermute_rope(heads = 1)
  param @blk.1.attn_k.bias : tensor<4xf32> = load "blk.1.attn_k.bias" f32 [4]
  param @blk.1.attn_v.weight : tensor<4x8xf32> = load "blk.1.attn_v.weight" q4_1 [4, 8]
  param @blk.1.attn_v.bias : tensor<4xf32> = load "blk.1.attn_v.bias" f32 [4]
  param @blk.1.attn_output.weight : tensor<8x8xf32> = load "blk.1.attn_output.weight" f32 [8, 8]
  param @blk.1.ffn_norm.weight : tensor<8xf32> = load "blk.1.ffn_norm.weight" f32 [8]
  param @blk.1.ffn_gate.weight : tensor<16x8xf32> = load "blk.1.ffn_gate.weight" q4_k [16, 8]
  param @blk.1.ffn_up.weight : tensor<16x8xf32> = load "blk.1.ffn_up.weight" q4_k [16, 8]
  param @blk.1.ffn_down.weight : tensor<8x16xf32> = load "blk.1.ffn_down.weight" q6_k [8, 16]
  param @output_norm.weight : tensor<8xf32> = load "output_norm.weight" f32 [8]
  param @blk.0.attn_qkv.weight : tensor<16x8xf32> = load "blk.0.attn_q.weight" q4_1 [8, 8] | unpermute_rope(heads = 2) | append_rows(@blk.0.attn_k.weight, rows = 4) | append_rows(@blk.0.attn_v.weight, rows = 4) | scale_cols(@blk.0.attn_norm.weight)
  param @blk.0.attn_qkv.bias : tensor<16xf32> = load "blk.0.attn_q.bias" f32 [8] | append_rows(@blk.0.attn_k.bias, rows = 4) | append_rows(@blk.0.attn_v.bias, rows = 4)
  param @blk.1.attn_qkv.weight : tensor<16x8xf32> = load "blk.1.attn_q.weight" q4_1 [8, 8] | unpermute_rope(heads = 2) | append_rows(@blk.1.attn_k.weight, rows = 4) | append_rows(@blk.1.attn_v.weight, rows = 4) | scale_cols(@blk.1.attn_norm.weight)
  param @blk.1.attn_qkv.bias : tensor<16xf32> = load "blk.1.attn_q.bias" f32 [8] | append_rows(@blk.1.attn_k.bias, rows = 4) | append_rows(@blk.1.attn_v.bias, rows = 4)
  param @blk.0.ffn_gate_up.weight : tensor<32x8xf32> = load "blk.0.ffn_gate.weight" q4_k [16, 8] | append_rows(@blk.0.ffn_up.weight, rows = 16) | scale_cols(@blk.0.ffn_norm.weight)
  param @blk.1.ffn_gate_up.weight : tensor<32x8xf32> = load "blk.1.ffn_gate.weight" q4_k [16, 8] | append_rows(@blk.1.ffn_up.weight, rows = 16) | scale_cols(@blk.1.ffn_norm.weight)
  param @token_embd.weight.folded : tensor<10x8xf32> = load "token_embd.weight" q8_0 [10, 8] | scale_cols(@output_norm.weight)
  param @bad.qkv : tensor<12x8xf32> = load "blk.0.attn_q.weight" q4_1 [8, 8] | append_rows(@blk.0.attn_k.weight, rows = 4)
  param @bad.up : tensor<15x8xf32> = load "blk.0.ffn_up.weight" q4_k [16, 8] | rows([0..14])
  param @bad.gate_up : tensor<31x8xf32> = load "blk.0.ffn_gate.weight" q4_k [16, 8] | append_rows(@bad.up, rows = 15)

  func @forward(%tokens: tensor<?xi32>) -> tensor<?x10xf32> {
    %0 = embed @token_embd.weight, %tokens {arena_offset = 0} : tensor<?x8xf32>
    // expected-error@+1 {{qkv_rope weight @bad.qkv must be [16, 8], found [12, 8]}}
    %1 = qkv_rope %0, @bad.qkv, @blk.0.attn_qkv.bias {arena_offset = 16, eps = 1e-05, head_dim = 4, heads = 2, kv_heads = 1, theta = 10000.0} block 0 : tensor<?x16xf32>
    // expected-error@+1 {{attention_qkv input width 8 != (heads + 2*kv_heads) * head_dim = 16}}
    %2 = attention_qkv %0 {arena_offset = 32, head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 0} block 0 : tensor<?x8xf32>
    %3 = linear %2, @blk.0.attn_output.weight {arena_offset = 16} block 0 : tensor<?x8xf32>
    // expected-error@+1 {{add attribute 'arena_offset' must be non-negative, found -16}}
    %4 = add %0, %3 {arena_offset = -16} block 0 : tensor<?x8xf32>
    // expected-error@+1 {{swiglu weight @bad.gate_up must be [2*ffn, 8] (gate rows, then up rows), found [31, 8]}}
    %5 = swiglu %4, @bad.gate_up {arena_offset = 0, eps = 1e-05} block 0 : tensor<?x16xf32>
    %6 = linear %5, @blk.0.ffn_down.weight {arena_offset = 16} block 0 : tensor<?x8xf32>
    %7 = add %4, %6 {arena_offset = 0} block 0 : tensor<?x8xf32>
    // expected-warning@+3 {{unknown attribute 'kv_slot' on qkv_rope is ignored}}
    // expected-error@+2 {{qkv_rope lacks attribute 'kv_heads'}}
    // expected-error@+1 {{qkv_rope bias @blk.1.attn_q.bias must be [16], found [8]}}
    %8 = qkv_rope %7, @blk.1.attn_qkv.weight, @blk.1.attn_q.bias {arena_offset = 16, eps = 1e-05, head_dim = 4, heads = 2, kv_slot = 1, theta = 10000.0} block 1 : tensor<?x16xf32>
    %9 = attention_qkv %8 {arena_offset = 32, head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 1} block 1 : tensor<?x8xf32>
    // expected-error@+1 {{linear attribute 'eps' must be a non-negative finite number, found -1e-05}}
    %10 = linear %9, @blk.1.attn_output.weight {arena_offset = 16, eps = -1e-05} block 1 : tensor<?x8xf32>
    %11 = add %7, %10 {arena_offset = 32} block 1 : tensor<?x8xf32>
    // expected-error@+1 {{swiglu takes (%x, @weight), found (%, @, @)}}
    %12 = swiglu %11, @blk.1.ffn_gate_up.weight, @blk.1.attn_qkv.bias {arena_offset = 0, eps = 1e-05} block 1 : tensor<?x16xf32>
    %13 = linear %12, @blk.1.ffn_down.weight {arena_offset = 16} block 1 : tensor<?x8xf32>
    %14 = add %11, %13 {arena_offset = 0} block 1 : tensor<?x8xf32>
    %15 = linear %14, @token_embd.weight.folded {arena_offset = 16, eps = 1e-05} : tensor<?x10xf32>
    return %15
  }
}
