"""Reads (or clicks an item of) the tray menu a process exports on the session bus, as a
desktop's tray shows it: the StatusNotifierItem's com.canonical.dbusmenu.

Usage: tray_menu.py PID              prints the menu as JSON: [{"id", "label", "type", "enabled"}]
       tray_menu.py PID click LABEL  clicks the item with that label
Exits 2 when the process exports no tray menu (yet)."""

import json
import sys

import gi

gi.require_version("Gio", "2.0")
from gi.repository import Gio, GLib  # noqa: E402

ROOT = "/org/ayatana/NotificationItem"
DBUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus")


def call(bus, dest, path, iface, method, args=None, reply=None):
    return bus.call_sync(
        dest, path, iface, method, args,
        GLib.VariantType(reply) if reply else None, Gio.DBusCallFlags.NONE, 5000, None,
    )


def menu_paths(bus, name, path=ROOT):
    try:
        xml = call(bus, name, path, "org.freedesktop.DBus.Introspectable", "Introspect",
                   reply="(s)").unpack()[0]
    except GLib.Error:
        return
    node = Gio.DBusNodeInfo.new_for_xml(xml)
    if any(i.name == "com.canonical.dbusmenu" for i in node.interfaces):
        yield path
    for child in node.nodes:
        yield from menu_paths(bus, name, f"{path}/{child.path}")


def find_menu(bus, pid):
    names = call(bus, *DBUS, "ListNames", reply="(as)").unpack()[0]
    for name in names:
        if not name.startswith(":"):
            continue
        try:
            owner = call(bus, *DBUS, "GetConnectionUnixProcessID", GLib.Variant("(s)", (name,)),
                         reply="(u)").unpack()[0]
        except GLib.Error:
            continue
        if owner == pid:
            for path in menu_paths(bus, name):
                return name, path
    return None


def items(layout):
    _id, _props, children = layout
    for child in children:
        cid, props, _grand = child
        yield {
            "id": cid,
            "label": props.get("label", ""),
            "type": props.get("type", "standard"),
            "enabled": props.get("enabled", True),
        }


def main():
    pid = int(sys.argv[1])
    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    found = find_menu(bus, pid)
    if not found:
        return 2
    name, path = found
    layout = call(bus, name, path, "com.canonical.dbusmenu", "GetLayout",
                  GLib.Variant("(iias)", (0, -1, [])), reply="(u(ia{sv}av))").unpack()[1]
    menu = list(items(layout))
    if len(sys.argv) > 3 and sys.argv[2] == "click":
        item = next(i for i in menu if i["label"] == sys.argv[3])
        call(bus, name, path, "com.canonical.dbusmenu", "Event",
             GLib.Variant("(isvu)", (item["id"], "clicked", GLib.Variant("i", 0), 0)))
        return 0
    print(json.dumps(menu, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
