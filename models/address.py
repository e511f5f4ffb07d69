from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Address(Base):
    __tablename__ = "address"

    id: Mapped[int] = mapped_column(primary_key=True)
    permanent_addr: Mapped[str | None] = mapped_column(String(100))
    temporary_addr: Mapped[str | None] = mapped_column(String(100))


class Family(Base):
    __tablename__ = "family"

    id: Mapped[int] = mapped_column(primary_key=True)
    permanent_addr: Mapped[str | None] = mapped_column(String(100))
    temporary_addr: Mapped[str | None] = mapped_column(String(100))
