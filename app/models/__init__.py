"""Every model, imported so Alembic and the app see one metadata."""
from app.models.audit import AuditEvent
from app.models.autopay import AutopayCharge, AutopayMandate, AutopaySettings, StripeCustomer
from app.models.base import Base
from app.models.booking import AvailabilitySettings, BlackoutDate, Booking, BookingAddOn, DateSlot
from app.models.branding import CalendarFeed, TenantBranding, TenantImage
from app.models.catalog import AddOn, Package
from app.models.dispute import Dispute
from app.models.email import EmailAttachment, OutboundEmail
from app.models.invoice import Document, DocumentCounter, InvoiceSettings
from app.models.notice import VendorNotice
from app.models.payment import CheckoutIntent, Payment, PaymentSettings, PaymentStage, StripeEvent
from app.models.refund import CancellationPolicy, RefundPart, RefundRequest
from app.models.reminder import Reminder, ReminderRule
from app.models.revision import PageRevision
from app.models.tenant import Tenant
from app.models.token import ActionToken
from app.models.user import User, UserSession

__all__ = [
    "Document", "DocumentCounter", "InvoiceSettings",
    "Reminder",
    "ReminderRule",
    "ActionToken", "AddOn", "AuditEvent", "AvailabilitySettings", "Base", "BlackoutDate", "Booking",
    "BookingAddOn", "DateSlot", "EmailAttachment", "OutboundEmail", "Package", "Tenant", "User",
    "CheckoutIntent", "Payment", "PaymentSettings", "PaymentStage", "StripeEvent",
    "CancellationPolicy", "RefundPart", "RefundRequest", "UserSession", "Dispute",
    "CalendarFeed", "TenantBranding", "TenantImage", "VendorNotice",
    "AutopayCharge", "AutopayMandate", "AutopaySettings", "StripeCustomer", "PageRevision",
]
