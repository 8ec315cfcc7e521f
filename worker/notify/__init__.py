"""E-mail notifications: the daily digest to a district's registrars and secretaries, and alerts
to its ops address. Counts and links only: no student name, SSID or Other ID is ever in a mail."""
