"""How the task tabs colour a note and an error line."""

ERROR_STYLE = "color: #a40000;"
NOTE_STYLE = "color: #666666;"
