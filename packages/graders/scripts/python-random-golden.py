# Golden vectors for src/multiple-choice/python-random.ts, generated once with python3.11 and
# committed (tests never call Python). Run: python3 scripts/python-random-golden.py > src/multiple-choice/python-random.golden.json
import json, random, sys

# simple-evals gpqa_eval.py: rng = random.Random(0); examples * n_repeats; rng.sample(range(4), 4) each
rng = random.Random(0)
gpqa = [rng.sample(range(4), 4) for _ in range(198 * 4)]
# with num_examples: the subset is drawn first from the same rng
rng = random.Random(0)
subset = rng.sample(range(198), 50)
subset_permutations = [rng.sample(range(4), 4) for _ in subset]

def draws(seed):
    r = random.Random(seed)
    return {
        "seed": str(seed),
        "uint32": [r.getrandbits(32) for _ in range(8)],
        "bits": [[k, str(r.getrandbits(k))] for k in (1, 5, 31, 33, 64, 100)],
        "randbelow": [r._randbelow(n) for n in (1, 2, 3, 7, 1000, 2**31 + 5)],
        "sampleSmall": r.sample(range(10), 10),
        "sampleLarge": r.sample(range(1000), 12),
    }

json.dump({
    "python": sys.version.split()[0],
    "gpqaDiamondRepeats4": gpqa,
    "numExamples50": {"subset": subset, "permutations": subset_permutations},
    "seeds": [draws(seed) for seed in (0, 1, 42, 2**32, 2**40 + 3, -7, 12345678901234567890)],
}, sys.stdout, separators=(",", ":"))
print()
