"""The demo: run the wine quality example (``scripts/demo`` then shows the run)."""

from __future__ import annotations

from wine_quality import main

if __name__ == "__main__":
    main()
