"""Data access for local evaluation datasets, their items and experiment runs over them."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.models import EvalDataset, EvalDatasetItem, EvalExperimentItem, EvalExperimentRun


async def get_dataset(*, session: AsyncSession, name: str) -> EvalDataset | None:
    """A dataset by name."""
    return (await session.exec(select(EvalDataset).where(EvalDataset.name == name))).first()


async def create_dataset(
    *, session: AsyncSession, name: str, description: str | None, metadata: dict[str, Any]
) -> EvalDataset:
    """Create a dataset, or update the description and metadata of the one with this name."""
    dataset = await get_dataset(session=session, name=name) or EvalDataset(name=name)
    if description is not None:
        dataset.description = description
    if metadata:
        dataset.dataset_metadata = {**dataset.dataset_metadata, **metadata}
    session.add(dataset)
    await session.commit()
    await session.refresh(dataset)
    return dataset


async def list_datasets(*, session: AsyncSession) -> list[tuple[EvalDataset, int]]:
    """Every dataset with its item count, by name."""
    counts = (
        select(EvalDatasetItem.dataset_id, func.count().label("n"))
        .group_by(col(EvalDatasetItem.dataset_id))
        .subquery()
    )
    rows = await session.exec(
        select(EvalDataset, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.dataset_id == col(EvalDataset.id))
        .order_by(col(EvalDataset.name))
    )
    return [(dataset, int(count)) for dataset, count in rows.all()]


async def upsert_items(
    *, session: AsyncSession, dataset: EvalDataset, items: Sequence[EvalDatasetItem]
) -> int:
    """Add items (an item whose id exists is updated in place); returns how many were new."""
    ids = [item.id for item in items]
    existing = {
        row.id: row
        for row in (
            await session.exec(select(EvalDatasetItem).where(col(EvalDatasetItem.id).in_(ids)))
        ).all()
    }
    created = 0
    for item in items:
        row = existing.get(item.id)
        if row is None:
            session.add(EvalDatasetItem.model_validate(item, update={"dataset_id": dataset.id}))
            created += 1
        else:
            row.input, row.expected_output = item.input, item.expected_output
            row.item_metadata = item.item_metadata
            session.add(row)
    await session.commit()
    return created


async def list_items(*, session: AsyncSession, dataset_id: uuid.UUID) -> list[EvalDatasetItem]:
    """A dataset's items in the order they were added."""
    rows = await session.exec(
        select(EvalDatasetItem)
        .where(EvalDatasetItem.dataset_id == dataset_id)
        .order_by(col(EvalDatasetItem.created_at), col(EvalDatasetItem.id))
    )
    return list(rows.all())


async def get_experiment_run(
    *, session: AsyncSession, dataset_id: uuid.UUID, name: str
) -> EvalExperimentRun | None:
    """An experiment run of a dataset by name."""
    statement = select(EvalExperimentRun).where(
        EvalExperimentRun.dataset_id == dataset_id, EvalExperimentRun.name == name
    )
    return (await session.exec(statement)).first()


async def upsert_experiment_run(
    *, session: AsyncSession, dataset_id: uuid.UUID, name: str, metadata: dict[str, Any]
) -> EvalExperimentRun:
    """Create the named experiment run (or update its metadata)."""
    run = await get_experiment_run(session=session, dataset_id=dataset_id, name=name)
    run = run or EvalExperimentRun(dataset_id=dataset_id, name=name)
    run.run_metadata = metadata
    session.add(run)
    await session.commit()
    await session.refresh(run)
    return run


async def link_item(
    *,
    session: AsyncSession,
    experiment_run_id: uuid.UUID,
    dataset_item_id: str,
    agent_run_id: uuid.UUID | None,
    trace_id: str | None,
) -> None:
    """Record which agent run answered the item in this experiment run (a re-run replaces it)."""
    statement = select(EvalExperimentItem).where(
        EvalExperimentItem.experiment_run_id == experiment_run_id,
        EvalExperimentItem.dataset_item_id == dataset_item_id,
    )
    row = (await session.exec(statement)).first() or EvalExperimentItem(
        experiment_run_id=experiment_run_id, dataset_item_id=dataset_item_id
    )
    row.agent_run_id, row.trace_id = agent_run_id, trace_id
    session.add(row)
    await session.commit()


async def experiment_items(
    *, session: AsyncSession, experiment_run_id: uuid.UUID
) -> list[EvalExperimentItem]:
    """The items an experiment run answered."""
    rows = await session.exec(
        select(EvalExperimentItem).where(EvalExperimentItem.experiment_run_id == experiment_run_id)
    )
    return list(rows.all())
