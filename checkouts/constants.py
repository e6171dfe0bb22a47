"""Named limits and mappings of the checkout API, kept in one place."""

from datetime import timedelta

from articles.models import MIN_CHECKOUT_LIFETIME_MINUTES
from checkouts.models import UiMode

MAX_ARTICLES_PER_CHECKOUT = 100  # Stripe's limit on line_items in payment mode
MAX_ARTICLE_QUANTITY = 999
DEFAULT_ARTICLE_QUANTITY = 1  # an article sent without Quantity is bought once
MAX_INTERNAL_REFERENCE_LENGTH = 200  # Stripe's limit on client_reference_id
MAX_SESSION_ID_LENGTH = 255  # Checkout.stripe_session_id's column
MAX_REDIRECT_URL_LENGTH = 2000
# How deep a request body's objects and lists may nest: a create request needs three
# levels (the request, Articles, an article). How many keys and items it may hold in all
# is Django's DATA_UPLOAD_MAX_NUMBER_FIELDS, as for a form.
MAX_BODY_NESTING_DEPTH = 8

# BokaMera's UiMode values and Stripe's current names for the same modes.
UI_MODE_ALIASES: dict[str, UiMode] = {
    "hosted": UiMode.HOSTED,
    "hosted_page": UiMode.HOSTED,
    "embedded": UiMode.EMBEDDED,
    "embedded_page": UiMode.EMBEDDED,
}
STRIPE_UI_MODES: dict[UiMode, str] = {
    UiMode.HOSTED: "hosted_page",
    UiMode.EMBEDDED: "embedded_page",
}

CHECKOUT_SESSION_ID_PLACEHOLDER = "{CHECKOUT_SESSION_ID}"
SESSION_ID_QUERY_PARAMETER = "session_id"

MIN_STRIPE_CHECKOUT_LIFETIME = timedelta(minutes=MIN_CHECKOUT_LIFETIME_MINUTES)
# Stripe accepts expires_at from 30 minutes after it receives the request; a
# lifetime of exactly 30 minutes computed here would arrive a little short.
EXPIRES_AT_SAFETY_MARGIN = timedelta(minutes=1)

# A client's Idempotency-Key replays its first response for this long.
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
# A claim whose request never finished (a crashed worker) is free again after this.
IDEMPOTENCY_CLAIM_TIMEOUT = timedelta(minutes=5)

# CountryCode -> Stripe Checkout `locale`. Countries with one clear language
# Stripe supports get it; multilingual or unlisted countries get "auto", which
# lets Stripe follow the customer's browser.
DEFAULT_STRIPE_LOCALE = "auto"
COUNTRY_LOCALES: dict[str, str] = {
    "SE": "sv", "AX": "sv",
    "NO": "nb", "SJ": "nb",
    "DK": "da", "GL": "da", "FO": "da",
    "FI": "fi",
    "DE": "de", "AT": "de", "LI": "de",
    "FR": "fr", "MC": "fr", "LU": "fr",
    "GB": "en-GB", "IE": "en-GB", "GI": "en-GB", "IM": "en-GB", "JE": "en-GB", "GG": "en-GB",
    "US": "en", "AU": "en", "NZ": "en", "SG": "en",
    "ES": "es", "AD": "es",
    "MX": "es-419", "AR": "es-419", "CL": "es-419", "CO": "es-419", "PE": "es-419",
    "UY": "es-419", "EC": "es-419", "BO": "es-419", "PY": "es-419", "VE": "es-419",
    "CR": "es-419", "GT": "es-419", "PA": "es-419", "DO": "es-419",
    "IT": "it", "SM": "it", "VA": "it",
    "NL": "nl",
    "PL": "pl",
    "PT": "pt",
    "BR": "pt-BR",
    "EE": "et", "LV": "lv", "LT": "lt",
    "CZ": "cs", "SK": "sk", "SI": "sl", "HR": "hr", "HU": "hu", "RO": "ro", "BG": "bg",
    "GR": "el", "CY": "el",
    "MT": "mt",
    "JP": "ja", "KR": "ko",
    "CN": "zh", "HK": "zh-HK", "TW": "zh-TW",
    "TH": "th", "TR": "tr", "VN": "vi", "ID": "id", "MY": "ms", "PH": "fil",
    "IN": "hi-IN",
    "RU": "ru",
}  # fmt: skip


def stripe_locale_for_country(country_code: str) -> str:
    return COUNTRY_LOCALES.get(country_code.upper(), DEFAULT_STRIPE_LOCALE)
