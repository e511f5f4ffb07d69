import enum

from sqlalchemy import Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shop.db import Base


class OrderStatus(enum.Enum):
    new = "new"
    paid = "paid"


class Priority(enum.Enum):
    low = "low"
    high = "high"


class Category(Base):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(50))


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200), unique=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id"))

    # Built concurrently by its revision; a plain index to the models.
    __table_args__ = (Index("customer_email_idx", "email"),)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    status: Mapped[OrderStatus] = mapped_column(Enum(OrderStatus, name="order_status"))
    priority: Mapped[Priority | None] = mapped_column(Enum(Priority, name="priority"))


class Invoice(Base):
    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    note: Mapped[str | None] = mapped_column(Text)
