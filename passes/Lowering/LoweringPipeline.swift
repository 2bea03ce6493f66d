// The lowering pipeline: the exact rewrites that take a (pruned) module to the form `pare compile` turns into an
// execution plan. Phase by phase:
//   fuse-qkv       q, k, v -> one product with bias and rope (qkv_rope) read by attention_qkv
//   fuse-gate-up   gate, up -> one product with SwiGLU (swiglu)
//   fold-norms     RMS norms -> folded into the products after them (weight into columns, `eps` on the product)
//   dce            drop the parameters the packed ones copied (q, gate) and anything else left unread
//   plan-memory    arena offsets from liveness (must run last: any later change invalidates the plan)
// Weight packing happens in the first three as view chains (append_rows, scale_cols); lowering materialises them
// once, each packed tensor contiguous and 64-byte aligned in the weight blob.

/// The default lowering pipeline string.
public let loweringPipeline = "fuse-qkv,fuse-gate-up,fold-norms,dce,plan-memory"

/// The Flab-Pruner recipe (vocabulary, layers, FFN channels) scaled to a 24-layer model. It keeps about a fifth of
/// the dense model's HumanEval pass@1 on Qwen2.5-Coder-0.5B (docs/RESULTS.md), so it is not the default.
public let paperRecipe = "vocab-prune,layer-prune{count=3},ffn-prune{drop=256}"

/// The default pruning pipeline of `pare compile` on a checkpoint, chosen by measurement (docs/RESULTS.md,
/// "Ablation"): of the pipelines measured, the one that removes the most parameters while keeping >= 97% of the
/// dense plan's HumanEval pass@1 (codex protocol): the vocabulary cut to the tokens that carry 99.9% of the
/// model's probability mass on code (71,261 of 151,936 rows of the embedding and the head removed) and 128 FFN
/// channels per block (2.3% of the block parameters; its plan, `pare compile qwen.gguf`, scored 73/164 against the
/// dense source-blocks plan's 71). No layer removal, and no wider FFN cut, kept 97% without recovery.
public let defaultRecipe = "vocab-prune{select=mass,mass=0.999,mass-samples=24,min-count=2},ffn-prune{drop=128}"
