# Engine tests: the model-based randomized test (tests/engine/model.c) and
# the kill -9 crash test (tests/engine/crashkill.c).
#
#   make check-model [MODEL_OPS=N] [SEED=N]   model, -O2 and ASan builds
#   make check-crashkill [CRASHKILL_CYCLES=N] [SEED=N]
#   make soak CYCLES=5000 [SOAK_OPS=N]        long runs of both
#
# Each run prints its seed; pass SEED=N (or --seed N) to replay it.

MODEL_OPS        ?= 100000
MODEL_ASAN_OPS   ?= 20000
CRASHKILL_CYCLES ?= 200
CYCLES           ?= 1000
SOAK_OPS         ?= 1000000

ETEST_SEED = $(if $(SEED),--seed $(SEED))
ETEST_ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: check-model check-crashkill soak

check-model: $(BUILD)/etests/model $(BUILD)/asan/etests/model
	$(BUILD)/etests/model --ops $(MODEL_OPS) $(ETEST_SEED)
	$(ETEST_ASAN_ENV) $(BUILD)/asan/etests/model --ops $(MODEL_ASAN_OPS) $(ETEST_SEED)

check-crashkill: $(BUILD)/etests/crashkill
	$(BUILD)/etests/crashkill --cycles $(CRASHKILL_CYCLES) $(ETEST_SEED)

soak: $(BUILD)/etests/crashkill $(BUILD)/etests/model
	$(BUILD)/etests/crashkill --cycles $(CYCLES) $(ETEST_SEED)
	$(BUILD)/etests/model --ops $(SOAK_OPS) $(ETEST_SEED)

CHECK_TARGETS += check-model check-crashkill
