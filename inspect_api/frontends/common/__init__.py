"""What the portal and the console share: the page shell, the API client, the UI helpers and the stylesheet."""
