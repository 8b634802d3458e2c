"""The inspector's offline phone app at ``/app/`` (plain ES modules, a service worker, IndexedDB)."""
