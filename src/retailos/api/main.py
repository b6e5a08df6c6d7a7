"""The app object for `uvicorn retailos.api.main:app`, configured from the environment."""

from retailos.api.app import create_app

app = create_app()
