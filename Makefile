# The two commands of the README's Quick start, and what they need.
#   make demo   reconstruct the bundled sample video offline and show the result
#   make test   set everything up and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip

.PHONY: demo test install install-test browser clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

install: $(PY)
	$(PIP) install --quiet -e ".[local]"

install-test: $(PY)
	$(PIP) install --quiet -e ".[local,test]"

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

demo: install
	$(VENV)/bin/openstrate-nb demo --out openstrate-demo

# The front end's pure modules first (node --test, seconds), then the Python suite.
test: install-test browser
	cd js && npm test --silent
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) js/node_modules openstrate_nb/static/*.js openstrate-demo
