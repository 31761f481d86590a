# The two commands of the README: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run sim-check test install lint format model bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The example home in simulator mode: the real hub on the embedded broker (mosquitto, else
# amqtt), mock GPIO, a rendered porch camera and a fake world; it starts at 21:00 simulated
# time so the night rules have something to do. Ctrl-C stops it.
run: $(STAMP)
	$(BIN)/edgehub sim -c examples/home/hub.yaml --start 21:00

# The example home's scenarios with their expectations, as CI runs them.
sim-check: $(STAMP)
	$(BIN)/edgehub sim -c examples/home/hub.yaml examples/home/scenarios --check

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

model: $(STAMP)
	$(BIN)/pip install -q -e '.[train]'
	$(BIN)/python -m models.train

clean:
	rm -rf $(VENV) data build *.egg-info
