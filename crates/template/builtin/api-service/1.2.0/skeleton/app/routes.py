"""The service's own endpoints. Every route is measured and traced under its pattern
("/orders/{id}") by the middleware in main.py: a new route needs no metrics code. Describe it in
openapi.yaml too."""

from fastapi import APIRouter

router = APIRouter()


@router.get("/")
async def service() -> dict[str, str]:
    return {"service": "{{ name }}"}
