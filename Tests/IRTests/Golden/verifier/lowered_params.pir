// RUN: verify
// P2, P4 on the lowering views: append_rows needs a declared, loaded parameter of shape [rows, cols] ([rows] after
// a vector); scale_cols a loaded vector of the chain's column count; neither may read a parameter whose own views
// read others (itself included). The last parameter (scale_cols on a vector) is valid.
// CHECK: lowered_params.pir:{{[0-9]+}}:3: error: view 1 (append_rows(@blk.0.ffn_down.weight, rows = 4)) of @bad.append appends @blk.0.ffn_down.weight of shape [8, 16], expected [4, 8]
// CHECK-NEXT: lowered_params.pir:{{[0-9]+}}:3: error: view 1 (append_rows(@blk.0.attn_k.weight, rows = 4)) of @bad.append_vector appends
// CHECK-NOT: good.scaled_vector
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
    memory.no_reuse_row_floats = 144
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
  // expected-error@+1 {{appends @blk.0.ffn_down.weight of shape [8, 16], expected [4, 8]}}
  param @bad.append : tensor<12x8xf32> = load "blk.0.attn_q.weight" q4_1 [8, 8] | append_rows(@blk.0.ffn_down.weight, rows = 4)
  // expected-error@+1 {{appends @blk.0.attn_k.weight of shape [4, 8], expected [4]}}
  param @bad.append_vector : tensor<12xf32> = load "blk.0.attn_q.bias" f32 [8] | append_rows(@blk.0.attn_k.weight, rows = 4)
  // expected-error@+1 {{view 1 (append_rows(@blk.0.attn_v.weight, rows = 0)) of @bad.append_none does not apply to shape [4, 8]}}
  param @bad.append_none : tensor<8x8xf32> = load "blk.0.attn_k.weight" q4_1 [4, 8] | append_rows(@blk.0.attn_v.weight, rows = 0)
  // expected-error@+1 {{scales 8 columns by @blk.0.attn_k.bias of shape [4], expected [8]}}
  param @bad.scale : tensor<16x8xf32> = load "blk.0.ffn_gate.weight" q4_k [16, 8] | scale_cols(@blk.0.attn_k.bias)
  // expected-error@+1 {{reads @blk.0.attn_norm.weihgt, which is not declared}}
  param @bad.undeclared : tensor<16x8xf32> = load "blk.0.ffn_gate.weight" q4_k [16, 8] | scale_cols(@blk.0.attn_norm.weihgt)
  // expected-error@+1 {{reads @blk.0.attn_qkv.bias, whose own views read other parameters; pack from loaded parameters only}}
  param @bad.packed : tensor<24xf32> = load "blk.0.attn_q.bias" f32 [8] | append_rows(@blk.0.attn_qkv.bias, rows = 16)
  // expected-error@+1 {{view 1 (append_rows(@bad.self, rows = 4)) of @bad.self reads @bad.self, whose own views read other parameters}}
  param @bad.self : tensor<8x8xf32> = load "blk.0.attn_k.weight" q4_1 [4, 8] | append_rows(@bad.self, rows = 4)
  // expected-error@+1 {{parameter @bad.declared is declared [12, 8] but its source [4, 8] and views give [8, 8]}}
  param @bad.declared : tensor<12x8xf32> = load "blk.0.attn_k.weight" q4_1 [4, 8] | append_rows(@blk.0.attn_v.weight, rows = 4)
  param @good.scaled_vector : tensor<8xf32> = load "output_norm.weight" f32 [8] | scale_cols(@blk.0.attn_norm.weight)

  func @forward(%tokens: tensor<?xi32>) -> tensor<?x10xf32> {
    %0 = embed @token_embd.weight, %tokens {arena_offset = 0} : tensor<?x8xf32>
    %1 = qkv_rope %0, @blk.0.attn_qkv.weight, @blk.0.attn_qkv.bias {arena_offset = 16, eps = 1e-05, head_dim = 4, heads = 2, kv_heads = 1, theta = 10000.0} block 0 : tensor<?x16xf32>
    %2 = attention_qkv %1 {arena_offset = 32, head_dim = 4, heads = 2, kv_heads = 1, kv_slot = 0} block 0 : tensor<?x8xf32>
    %3 = linear %2, @blk.0.attn_output.weight {arena_offset = 16} block 0 : tensor<?x8xf32>
    %4 = add %0, %3 {arena_offset = 32} block 0 : tensor<?x8xf32>
    %5 = swiglu %4, @blk.0.ffn_gate_up.weight {arena_offset = 0, eps = 1e-05} block 0 : tensor<?x16xf32>
    %6 = linear %5, @blk.0.ffn_down.weight {arena_offset = 16} block 0 : tensor<?x8xf32>
    %7 = add %4, %6 {arena_offset = 0} block 0 : tensor<?x8xf32>
    %8 = linear %7, @token_embd.weight.folded {arena_offset = 16, eps = 1e-05} : tensor<?x10xf32>
    return %8
  }
}
