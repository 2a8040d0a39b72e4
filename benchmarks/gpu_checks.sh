#!/usr/bin/env bash
# The checks to run on a machine with a CUDA GPU, in one go: the gpu-marked tests, then
# the lalm speed benchmarks (full-size random models), logs and JSON into $OUT.
#
#   OUT=gpu_out bash benchmarks/gpu_checks.sh            # on the GPU machine, in the repo root
#   LALM_KINDS=qwen2_audio bash benchmarks/gpu_checks.sh # one benchmark only
#
# Wheels under .whl/ (the project's pins of what that machine's python lacks, see
# docs/development.md) are installed into /tmp/site first and put ahead on PYTHONPATH.
set -uo pipefail
out=${OUT:-gpu_out}
mkdir -p "$out"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1
if compgen -G ".whl/*.whl" > /dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || exit 1
  export PYTHONPATH=/tmp/site:$PYTHONPATH
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.csv"
python3 -c "import torch, transformers, peft; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__)" | tee "$out/versions.txt"
python3 -m pytest -q -m gpu -p no:cacheprovider tests/reasoner/test_lalm.py tests/study/methods/test_lora.py \
  2>&1 | tee "$out/pytest_gpu.log"
for kind in ${LALM_KINDS:-qwen2_audio qwen2_5_omni_thinker}; do
  /usr/bin/time -v timeout "${BENCH_TIMEOUT:-360}" python3 benchmarks/bench_reasoner.py --lalm "$kind" \
    > "$out/bench_$kind.json" 2> "$out/bench_$kind.err"
  echo "bench $kind: rc=$?"; cat "$out/bench_$kind.json"; tail -3 "$out/bench_$kind.err"
done
# the LM router (router.backend: lm) on the GPU: a Qwen2.5-0.5B-shaped random model (the
# packaged weights are not on that machine; its byte tokenizer makes prompts about 4x longer
# in tokens than Qwen's, which the JSON's mean_prompt_tokens records)
python3 -c "from audiorouter.testing.synthetic_models import save_synthetic_model as s; s('causal_lm', '/tmp/router_lm_0.5b', '0.5b')" \
  && timeout "${BENCH_TIMEOUT:-360}" python3 benchmarks/bench_router_lm.py --model /tmp/router_lm_0.5b --items 4 --rounds 2 \
    > "$out/bench_router_lm.json" 2> "$out/bench_router_lm.err"
echo "bench router_lm: rc=$?"; cat "$out/bench_router_lm.json"; tail -3 "$out/bench_router_lm.err"
