// The `pare` command line: one subcommand per verb.
import ArgumentParser

@main
struct Pare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pare",
        abstract: "Lift code-LLM checkpoints into a verified graph IR, inspect it, and run it.",
        discussion: """
            MODEL is, everywhere, a GGUF file, a Hugging Face directory (config.json, *.safetensors, \
            tokenizer.json) or a .pir file written by `pare dump-ir` (which names its source checkpoint).

            Examples:
              pare dump-ir qwen.gguf -o qwen.pir        # the IR, weights never printed
              pare verify qwen.pir                       # check the IR's invariants
              pare tokenize qwen.gguf --text 'def f():' --json
              pare logits qwen.pir --prompt 'def fib(n):' --top 5 --json
              pare generate qwen.gguf --prompt 'def fib(n):' --max-tokens 64
              pare opt qwen.gguf --passes 'layer-prune{count=3},ffn-prune{drop=256}' --kl-budget 0.5 -o small.pir
              pare kl qwen.gguf small.pir --json         # KL(original ‖ pruned) on calibration code
              pare compile qwen.gguf -o small.pare       # prune (the default recipe), lower, write a plan
              pare inspect small.pare                    # the plan: provenance, weights, arena, steps
              pare run small.pare --prompt 'def fib(n):' # generate with the runtime
              pare bench small.pare --json               # prefill and decode tokens/s, load, peak RSS
              pare eval humaneval small.pare             # HumanEval pass@1, run by the runtime
              pare report dense.pare small.pare          # parameters, FLOPs, bytes per token, size, speed, side by side
              pare passes                                # the passes and their options

            Exit codes: 0 success (also when `pare opt` rejects a pass over its KL budget), 1 internal error, a pass that failed, or a lowering or runtime error (e.g. a prompt longer than the context), 3 bad input file (checkpoint, tokenizer, IR text, calibration text, plan), 4 the IR failed verification, 64 bad command-line arguments (including a bad pipeline string or pass option).
            """,
        subcommands: [DumpIR.self, Verify.self, Tokenize.self, Logits.self, Generate.self, Bench.self, BenchKernels.self, Stats.self, Opt.self, KL.self, Passes.self,
                      Compile.self, Inspect.self, Run.self, Eval.self, Report.self]
    )
}
