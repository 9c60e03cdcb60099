"""The window: MainWindow (main_window) makes the sources and models and hands them to the
views in its docks; DeskMenus (menus) and StatusLine (status_line) belong to it."""
