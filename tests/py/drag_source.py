#!/usr/bin/python3
"""A tiny OS drag source for end-to-end tests: a GTK3 window whose button offers the given files
as text/uri-list over XDND, the way a file manager does.

usage: drag_source.py X Y FILE...   (the window is titled "oxdrop-drag-source")
Prints "ready" when shown and "sent" when the drop target asked for the data.
"""
import sys

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

x, y, files = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
uris = [GLib.filename_to_uri(f, None) for f in files]

window = Gtk.Window(title="oxdrop-drag-source")
window.set_default_size(220, 120)
window.move(x, y)
button = Gtk.Button(label="Drag these files")
button.drag_source_set(Gdk.ModifierType.BUTTON1_MASK, [], Gdk.DragAction.COPY)
button.drag_source_add_uri_targets()


def on_get(_widget, _ctx, data, _info, _time):
    data.set_uris(uris)
    print("sent", flush=True)


button.connect("drag-data-get", on_get)
window.add(button)
window.connect("destroy", Gtk.main_quit)
window.show_all()
print("ready", flush=True)
Gtk.main()
