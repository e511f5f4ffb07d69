"""A shop in the PostgreSQL types real applications use, one of each: an enum
shared by two columns, JSONB, ARRAY, a UUID key the server generates,
timestamptz, identity keys, a partial index, a check constraint, foreign keys
with ON DELETE, and each usual kind of server default."""

import enum
import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Identity,
    Index,
    Numeric,
    String,
    Text,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class OrderStatus(enum.Enum):
    pending = "pending"
    paid = "paid"
    shipped = "shipped"


# One type, order_status, for both columns below.
order_status = Enum(OrderStatus, name="order_status")


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String(30)), server_default="{}")
    active: Mapped[bool] = mapped_column(server_default=true())
    vip: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    code: Mapped[str | None] = mapped_column(String(10))
    profile: Mapped[str | None] = mapped_column(Text)
    segment: Mapped[str | None] = mapped_column(String(20))


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("total >= 0", name="total_not_negative"),
        Index("ix_orders_pending", "customer_id", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=func.gen_random_uuid())
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    status: Mapped[OrderStatus] = mapped_column(order_status, server_default="pending")
    details: Mapped[dict] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    total: Mapped[Decimal] = mapped_column(Numeric(10, 2), server_default="0")
    quantity: Mapped[int] = mapped_column(server_default=text("1"))
    discount: Mapped[int] = mapped_column(server_default=text("-1"))
    note: Mapped[str] = mapped_column(String(100), server_default="it's new")
    placed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("CURRENT_TIMESTAMP")
    )


class Shipment(Base):
    __tablename__ = "shipment"
    __table_args__ = (
        CheckConstraint("status <> 'pending' OR shipped_at IS NULL", name="pending_not_shipped"),
    )

    id: Mapped[int] = mapped_column(Identity(always=True), primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    status: Mapped[OrderStatus] = mapped_column(order_status)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
