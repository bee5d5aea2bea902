"""A dock that shows progress on app icons, as Ubuntu's dock, Dash to Dock or KDE's task manager
do: owns com.canonical.Unity on the session bus (which is how libunity knows to send anything)
and prints every com.canonical.Unity.LauncherEntry.Update it hears as a JSON line, with the
process that sent it (tests run several apps on one session bus):
{"pid": 4242, "uri": "application://oxdrop.desktop", "progress": 0.42, "progress-visible": true}.

Usage: fake_dock.py   (runs until killed; prints "ready" once it owns the name)"""

import json

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

KEYS = ("progress", "progress-visible")


def sender_pid(conn, sender):
    reply = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                           "GetConnectionUnixProcessID", GLib.Variant("(s)", (sender,)),
                           GLib.VariantType("(u)"), Gio.DBusCallFlags.NONE, -1, None)
    return reply.unpack()[0]


def on_update(conn, sender, _path, _iface, _signal, params):
    uri, props = params.unpack()
    seen = {k: v for k, v in props.items() if k in KEYS}
    print(json.dumps({"pid": sender_pid(conn, sender), "uri": uri, **seen}), flush=True)


def main():
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    bus.signal_subscribe(None, "com.canonical.Unity.LauncherEntry", "Update", None, None,
                         Gio.DBusSignalFlags.NONE, on_update)
    Gio.bus_own_name_on_connection(bus, "com.canonical.Unity", Gio.BusNameOwnerFlags.NONE,
                                   lambda *_: print("ready", flush=True), None)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
