"""HTML-only mails become readable text with the standard library's HTML parser."""

from __future__ import annotations

from email.message import EmailMessage

from domain.email_intake import ParsedMessage, parse_message
from domain.mail_text import html_to_text


def test_paragraphs_and_line_breaks():
    html = "<p>Første avsnitt.</p><p>Andre<br>linje to<br/>linje tre</p><div>Hilsen</div>"
    assert html_to_text(html) == "Første avsnitt.\n\nAndre\nlinje to\nlinje tre\n\nHilsen"


def test_entities_and_norwegian_letters():
    html = (
        "<p>Vi st&oslash;tter &laquo;forslaget&raquo; &ndash; "
        "l&aelig;ringsm&aring;l &#230; &amp; &#x00C5;</p>"
    )
    assert html_to_text(html) == "Vi støtter «forslaget» – læringsmål æ & Å"


def test_lists_numbered_and_nested():
    html = (
        "<p>Merknader:</p><ul><li>Første</li><li>Andre<ol><li>a</li><li>b</li></ol></li></ul>"
        "<ol><li>en</li><li>to</li></ol>"
    )
    assert html_to_text(html) == ("Merknader:\n\n- Første\n- Andre\n  1. a\n  2. b\n\n1. en\n2. to")


def test_links_keep_their_text_and_images_are_dropped():
    html = (
        '<p>Se <a href="https://www.helsedirektoratet.no/x">høringssiden</a> for mer.'
        '<img src="logo.png" alt="Logo"></p>'
    )
    assert html_to_text(html) == "Se høringssiden for mer."


def test_script_style_and_head_are_dropped():
    html = (
        "<html><head><title>Svar</title><style>p { color: red }</style></head><body>"
        "<script>document.write('skjult')</script><p>Synlig tekst.</p>"
        "<noscript>ingen skript</noscript></body></html>"
    )
    assert html_to_text(html) == "Synlig tekst."


def test_quotes_tables_and_inline_markup():
    html = (
        "<p>Vi er <b>enige</b> i <i>forslaget</i>.</p>"
        "<blockquote>Opprinnelig melding</blockquote>"
        "<table><tr><th>Mål</th><th>Syn</th></tr><tr><td>BLS-154</td><td>støtter</td></tr></table>"
    )
    assert html_to_text(html) == (
        "Vi er enige i forslaget.\n\n> Opprinnelig melding\n\nMål | Syn\nBLS-154 | støtter"
    )


def test_an_html_only_mail_with_a_list_and_a_link():
    message = EmailMessage()
    message["From"] = "post@helse-vest.no"
    message["Subject"] = "Svar på høring 24/750"
    message.set_content(
        "<html><head><style>li{margin:0}</style></head><body><p>Helse Vest har to merknader:</p>"
        "<ul><li>BLS-154 bør ha nivå B.</li><li>Se <a href='https://ex.no'>vedlegget</a>.</li>"
        "</ul><p>Med hilsen<br>Kari Nordmann</p></body></html>",
        subtype="html",
    )
    parsed = parse_message(message.as_bytes())
    assert isinstance(parsed, ParsedMessage), parsed
    body = parsed.body_text
    assert body == (
        "Helse Vest har to merknader:\n\n- BLS-154 bør ha nivå B.\n- Se vedlegget.\n\n"
        "Med hilsen\nKari Nordmann"
    )
