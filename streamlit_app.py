"""Entry point: ``streamlit run streamlit_app.py``. All the work is in :mod:`dashboard.ui`."""

from dashboard.ui import main

main()
