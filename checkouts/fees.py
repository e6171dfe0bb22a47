"""The platform's fee on a checkout: Stripe's ``application_fee_amount``.

The rule, in integer minor units of the checkout's currency:

1. the percent part is ``total * percent / 100``, rounded half up to the smallest
   amount Stripe charges in the currency (a minor unit; 100 for MGA);
2. the fixed amount is added;
3. the sum is raised to the minimum and lowered to the maximum, where they are set;
4. it is never more than the total.
"""

from articles.models import StripeCheckoutSettings
from articles.money import smallest_stripe_amount

# platform_fee_percent has two decimals: 2.50 % is 250 hundredths of a percent.
HUNDREDTHS_OF_A_PERCENT = 100 * 100


def platform_fee(amount_total: int, currency: str, rule: StripeCheckoutSettings) -> int | None:
    """The fee on ``amount_total`` (minor units) by the company's ``rule``; None if the
    company takes none."""
    if not rule.takes_platform_fee:
        return None
    step = smallest_stripe_amount(currency)
    hundredths = int(rule.platform_fee_percent * 100)
    divisor = HUNDREDTHS_OF_A_PERCENT * step
    percent_part = (amount_total * hundredths + divisor // 2) // divisor * step
    fee = percent_part + rule.platform_fee_fixed
    if rule.platform_fee_minimum is not None:
        fee = max(fee, rule.platform_fee_minimum)
    if rule.platform_fee_maximum is not None:
        fee = min(fee, rule.platform_fee_maximum)
    return min(fee, amount_total)
