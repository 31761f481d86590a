# The two commands of the README: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint format model bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Until `edgehub sim` lands: the example home on the embedded broker, with virtual sensors.
run: $(STAMP)
	@$(BIN)/python -m simulator.sensors --port 18830 & SIM=$$!; \
	trap 'kill $$SIM 2>/dev/null' EXIT INT TERM; \
	$(BIN)/edgehub run -c examples/home/hub.yaml --log-events

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
