# Simulated power-loss test of the pool engine (tests/engine/powerloss.c).
#
#   make check-powerloss [SEED=N]                 2,000+ crash states
#   make soak-powerloss STATES=N [PL_OPS=N] [SEED=N]
#                                                 more states, longer workload
#
# Each run prints its seed; SEED=N (or --seed N) replays it, and
# `powerloss --seed N --only STATE` re-runs one failing state.

STATES  ?= 20000
PL_OPS  ?= 2000
PL_SEED  = $(if $(SEED),--seed $(SEED))

.PHONY: check-powerloss soak-powerloss

check-powerloss: $(BUILD)/etests/powerloss
	$(BUILD)/etests/powerloss $(PL_SEED)

soak-powerloss: $(BUILD)/etests/powerloss
	$(BUILD)/etests/powerloss $(PL_SEED) --ops $(PL_OPS) --states $(STATES)

CHECK_TARGETS += check-powerloss
