"""Who really sent an inbound mail, as far as SES's receipt verdicts (SPF, DKIM,
DMARC, spam, virus) prove it, and the envelope SES reports them with.

DMARC PASS is what proves the From header: without it a spoofed From of an authorised
address must not reach the account. SPF proves the envelope sender itself; DMARC
proves only the From header's domain.
"""

from __future__ import annotations

from email.utils import getaddresses
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from clientarea.intake.parsing import ParsedMail


class Verdicts(NamedTuple):
    """SES's receipt verdicts: PASS, FAIL, GRAY or PROCESSING_FAILED each."""

    spf: str = "GRAY"
    dkim: str = "GRAY"
    dmarc: str = "GRAY"
    spam: str = "PASS"
    virus: str = "PASS"

    def authenticated(self) -> bool:
        """The sender is who the From header says (SPF, DKIM and DMARC all pass)."""
        clean = self.spam != "FAIL" and self.virus != "FAIL"
        return clean and self.spf == self.dkim == self.dmarc == "PASS"

    def probably_forged(self) -> bool:
        return "FAIL" in (self.dmarc, self.spam, self.virus)

    def envelope_answerable(self) -> bool:
        """An auto-reply may go to the envelope sender (RFC 3834 §3.1.5 with §2's
        care not to answer forgeries): SPF or DMARC passed, nothing says forged."""
        return "PASS" in (self.spf, self.dmarc) and not self.probably_forged()


class Envelope(NamedTuple):
    """What SES tells about a mail besides its bytes."""

    message_id: str
    recipients: tuple[str, ...]
    mail_from: str  # the SMTP envelope sender; "" for bounces
    verdicts: Verdicts
    # The From addresses SES parsed (commonHeaders.from): its verdicts are about these.
    header_from: tuple[str, ...] = ()

    @classmethod
    def from_ses(cls, record: dict[str, Any]) -> Envelope:
        """From `Records[n].ses` of an SES receipt event."""
        mail, receipt = record["mail"], record["receipt"]

        def status(name: str) -> str:
            return str((receipt.get(name) or {}).get("status") or "GRAY").upper()

        common = mail.get("commonHeaders") or {}
        return cls(
            message_id=str(mail["messageId"]),
            recipients=tuple(str(r) for r in receipt.get("recipients") or mail["destination"]),
            mail_from=str(mail.get("source") or ""),
            header_from=tuple(
                address for _, address in getaddresses([str(v) for v in common.get("from") or []])
            ),
            verdicts=Verdicts(
                spf=status("spfVerdict"),
                dkim=status("dkimVerdict"),
                dmarc=status("dmarcVerdict"),
                spam=status("spamVerdict") if receipt.get("spamVerdict") else "PASS",
                virus=status("virusVerdict") if receipt.get("virusVerdict") else "PASS",
            ),
        )


def one_from_as_ses_saw_it(envelope: Envelope, mail: ParsedMail) -> bool:
    """Exactly one well-formed From, the very address SES reports: SES computed its
    DMARC verdict on its reading of From, and a mail read two ways is not trusted."""
    return bool(mail.sender) and [a.casefold() for a in envelope.header_from] == [
        mail.sender.casefold()
    ]


def envelope_sender_proven(envelope: Envelope, mail: ParsedMail, to: str) -> bool:
    """SPF proves the envelope sender itself; DMARC proves only the From header's
    domain, so it vouches for the envelope sender only when that is the From address
    (else an attacker's own signed domain would send our reply to any address)."""
    verdicts = envelope.verdicts
    if not verdicts.envelope_answerable():
        return False
    return verdicts.spf == "PASS" or (mail.sender or "").casefold() == to.casefold()
