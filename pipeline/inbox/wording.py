"""The words that give a message away, in the languages the team writes in (and the ones
mail servers answer in): auto-reply subjects, requests to stop, bounce notices.

Every pattern matches in any case; `^` and `$` match at each line.
"""

import re


def _any(*patterns: str) -> re.Pattern[str]:
    """One pattern matching any of `patterns`, in any case, `^` and `$` at each line."""
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns), re.IGNORECASE | re.MULTILINE)


# Subjects of out-of-office and other automatic answers, at the start of the subject
# (after any "Re:"/"AW:" a client added).
AUTO_REPLY_SUBJECT = _any(
    r"auto(matic|matische?|matisk|matico|mática|matica|mated)?[ _-]?(reply|response|respons|antwort|svar|answer)",
    r"auto[ -]?(reply|respon[ds]e?r?|répon(se|dre))",
    r"autoresponder|autorespuesta|auto-?antwort",
    r"out of (the )?office|ooo\b|on vacation|vacation reply|away from (the )?office|on leave\b",
    r"abwesenheit(snotiz|smeldung|sassistent)?|nicht im büro|außer haus|urlaubsabwesenheit",
    r"réponse automatique|absence du bureau|absent(e)? du bureau|message d'absence|en congés?",
    r"respuesta automática|respuesta automatica|fuera de la oficina|fuera de oficina|ausente",
    r"risposta automatica|fuori sede|fuori ufficio|assente",
    r"resposta automática|resposta automatica|ausência|fora do escritório",
    r"automatisch antwoord|afwezig(heid)?|niet aanwezig|buiten kantoor",
    r"automatiskt svar|frånvaro|autosvar|fraværende|ikke til stede",
    r"automaattinen vastaus|poissaolo",
    r"odpowiedź automatyczna|automatyczna odpowiedź|nieobecność",
    r"automatická odpověď|mimo kancelář",
    r"автоматический ответ|автоответ|нет на месте|в отпуске",
    r"自動応答|自動返信|不在|休暇|자동 응답|自动回复|自動回覆",
)
_SUBJECT_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|ref|rif|res|r|wg|fw|fwd|tr|enc)\s*(\[\d+\])?\s*:\s*)+", re.I)
_REPLY_PREFIX = re.compile(r"^\s*(re|aw|sv|vs|antw|ref|rif|res|r)\s*(\[\d+\])?\s*:", re.I)

# The reply's own text asking us to stop. Short phrases that a person writes; checked
# only against the reply's own words, with the quoted original removed.
STOP_REQUEST = _any(
    # English
    r"\bunsubscribe\b",
    r"\bremove (me|us|my (e-?mail|address|name))\b",
    r"\btake (me|us) off\b",
    r"\b(please )?stop (e-?mailing|emailing|contacting|writing|sending|messaging)\b",
    r"\b(do not|don't|dont|never) (e-?mail|contact|write to|message) (me|us)\b",
    r"\b(do not|don't|dont) send (me|us) (any )?(more|further|e-?mails|messages)\b",
    r"\bno (more|further) (e-?mails?|messages|contact)\b",
    r"\bopt(ed)?[ -]?out\b",
    r"\bnot interested[,.;:!]* (please )?(remove|stop|unsubscribe|take)\b",
    r"^\s*stop\s*[.!]?\s*$",
    # German
    r"\babmelden\b|\babbestellen\b|\baustragen\b|\bentfernen sie mich\b|\bentfernt werden\b",
    r"\bkeine (weiteren )?(e-?mails|mails|nachrichten|werbung)\b",
    r"\bnicht mehr (kontaktieren|anschreiben|schreiben|zu kontaktieren|anzuschreiben)\b",
    r"\bkontaktieren sie mich nicht\b|\bschreiben sie mir nicht\b",
    # French
    r"désabonn|désinscri|desinscri|desabonn",
    r"\bne (plus|pas) me (contacter|écrire|recontacter|solliciter)\b",
    r"\bne plus recevoir\b|\bretirez[- ]moi\b|\bsupprimez[- ]moi\b|\bmerci de ne plus\b",
    # Spanish
    r"\bdar(me|nos)? de baja\b|\bdarse de baja\b|\bbaja de (la|su|vuestra) lista\b",
    r"\bno (me|nos) (escriba|contacte|envíe|envie|vuelva)\w*\b|\bno quiero recibir\b",
    r"\belimín(e|a)(me|nos)\b|\beliminar(me|nos)\b|\bquíten(me|nos)\b",
    # Italian
    r"\bdisiscri|\bcancellami\b|\bcancellatemi\b|\brimuovetemi\b|\brimuovimi\b",
    r"\bnon (contattarmi|scrivermi|contattatemi|scrivetemi)\b|\bnon voglio (più )?ricevere\b",
    # Portuguese
    r"\bdescadastr|\bcancelar (a )?inscrição\b|\bremova-me\b|\bremovam-me\b",
    r"\bnão (me )?(contate|contactem|envie|enviem|escreva)\b|\bnão quero receber\b",
    # Dutch
    r"\bafmelden\b|\buitschrijven\b|\bverwijder (mij|me|ons)\b|\bgeen (e-?mails|berichten) meer\b",
    # Nordic, Polish, Russian, Japanese
    r"\bavregistrer|\bavsluta prenumeration|\bavmeld\b|\bwypisz|\bnie kontaktuj",
    r"отписать|отпишите|не пишите|配信停止|購読解除",
)

# Subjects of non-standard bounce notices (a DSN says so in its structure instead).
BOUNCE_SUBJECT = _any(
    r"undeliver(able|ed)|non[- ]?deliver|not delivered|could not be delivered|delivery (status )?notification",
    r"delivery (has )?fail|failed delivery|failure (notice|delivery)|delivery failure|mail delivery failed",
    r"returned mail|mail returned|returned to sender|returning message|mail failure|mail system error",
    r"delivery (problem|report|error|warning)|message (not delivered|delayed|undeliverable)",
    r"warning: (message|could not)|could not send|unable to deliver|unzustellbar|nicht zustellbar",
    r"non remis|non distribuable|échec de (la )?(remise|distribution)|no se puede entregar|no entregado",
    r"there was an error sending|error sending your mail|bounce|mail delivery system|delivery status",
    r"配信できません|エラー|不達|返送",
)
# What a bounce notice says in its first lines (checked only on mail that returns a message).
BOUNCE_TEXT = _any(
    r"could not be delivered|couldn't be delivered|undeliverable|delivery (has )?failed|was not delivered",
    r"unable to deliver|delivery to the following recipient|permanent(ly)? (error|failure)|user unknown",
    r"mailbox (is )?(full|unavailable)|no such (user|mailbox)|address rejected",
    r"送信できません|配信できません|届きませんでした|メールボックスが一杯|宛先不明",
)
# Subjects of a provider's complaint report sent without RFC 5965's machine-readable part.
COMPLAINT_SUBJECT = _any(r"complaint about message from", r"^(email )?(abuse|spam|feedback) report\b")
# Senders of bounce notices (the local part).
BOUNCE_SENDER = re.compile(
    r"^(mailer-daemon|mailer_daemon|mail-daemon|postmaster|post_master|mail\.delivery\.system|mmsc|sysadmin)$", re.I
)

# In a text bounce, where the copy of the returned message starts.
RETURNED_MESSAGE = _any(
    r"^-+ ?(original message|the original message|below this line|returned message|message headers follow|"
    r"original message follows|headers of your message|copy of the message)",
    r"^(message headers follow|original message headers|the original message headers|headers of the original)",
    r"^-+ ?(this is a copy of the message|a copy of the original message|below is a copy)",
    r"^(your message|the message) (reads|follows|was)( \(in part\))?:?$",
    r"^(received|return-path|x-original-to): ",
)
# Words that say a delivery is only delayed or failed for now.
TEMPORARY = _any(
    r"\bdelayed\b|\bdeferred\b|\bwill (be )?retr(y|ied)\b|\bstill trying\b|\bnot yet been delivered\b",
    r"\btemporar(y|ily)\b|\bwarning\b|\bmailbox (is )?full\b|\bover ?quota\b|\bquota exceeded\b|\btry again later\b",
    r"\bcould not send mail for past\b|\bcannot send message for\b",
)


def is_auto_reply_subject(subject: str) -> bool:
    """True when a subject reads like an automatic answer ("Automatic reply: …", "Abwesenheitsnotiz")."""
    return bool(AUTO_REPLY_SUBJECT.match(bare_subject(subject)))


def stop_request(text: str) -> str:
    """The words asking us to stop ("remove me", "abmelden", …), or "" when the text asks nothing of the kind."""
    found = STOP_REQUEST.search(text)
    return found.group(0).strip() if found else ""


def is_reply_subject(subject: str) -> bool:
    """True when a subject starts with a reply prefix ("Re:", "AW:", "SV:" …; a forward's "Fwd:" is none)."""
    return bool(_REPLY_PREFIX.match(subject))


def bare_subject(subject: str) -> str:
    """The subject without the "Re:"/"Fwd:" prefixes clients add."""
    return _SUBJECT_PREFIX.sub("", subject).strip()


def is_complaint_subject(subject: str) -> bool:
    return bool(COMPLAINT_SUBJECT.search(subject))


def is_bounce_subject(subject: str) -> bool:
    return bool(BOUNCE_SUBJECT.search(subject))


def is_bounce_text(text: str) -> bool:
    return bool(BOUNCE_TEXT.search(text))


def is_temporary(text: str) -> bool:
    return bool(TEMPORARY.search(text))
