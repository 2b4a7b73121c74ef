// chatroom — the Socket.IO chat tutorial with its homework done, plus rooms, on sioserver.hpp.
//
// Nicknames (unique among the connected users, case-insensitive), three rooms with live user counts, join and
// leave notices, "is typing", private messages, the last 50 messages of a room on joining it and older ones page
// by page, and reconnection that gives a page back its nickname and room. Every payload is checked; a bad one is
// answered with an error acknowledgement {ok:false, error} and goes no further. Room messages are kept in a
// SQLite file (history.hpp), so they survive a restart.
//
//   PORT=3000 ./build/chatroom        then open http://localhost:3000 in a few browser tabs
//   SIO_TLS_CERT=F SIO_TLS_KEY=F      serve https and wss with this PEM certificate and key (`make run TLS=1
//                                     EXAMPLE=chatroom` makes a self-signed pair into build/)
//   CHATROOM_DB=/path/chat.db         where the history lives (default: chatroom.db beside the binary; delete the
//                                     file, with its -wal and -shm files, to start an empty history)
//   http://localhost:3000/metrics     what Prometheus scrapes (README, "Metrics"); the admin UI is at /admin/
// Limits (README, "Limits"): one address may hold 1000 connections (the default); one page may send 50 events a
// second with bursts of 100, more is read more slowly, and a page that stays over it for 10 s is sent away.
//   CHATROOM_EVENT_RATE=50:100        that event limit, PER_SECOND:BURST ("0": none; a load test needs none)
//
// What the page sends (each answered with {ok:true, ...} or {ok:false, error} when it asks for an answer):
//   "login"            {nick, room}      enter the chat
//   "switch room"      room
//   "chat message"     text              to the others in your room (you show your own at once); the answer
//                                        {ok, id, time} comes once the message is saved
//   "history"          {room, before}    the page of messages before id `before` (null: the newest):
//                                        {ok, room, messages, more}
//   "private message"  {to, text}        to one user
//   "typing"           true | false
// What it gets: "rooms" [{name, users}], "session" {nick, room, token}, "login failed" {error},
//   "room" {room, users, history, older}, "users" {room, users}, "notice" {room, text, time},
//   "chat message" {id, room, from, text, time}, "private message" {from, to, text, time},
//   "typing" {nick, typing}, "replaced".
// Reconnecting: connection state recovery is on, so a page whose network dropped for up to two minutes gets its
// socket back (same id, room and socket.data) with every message it missed, and shows "Reconnected, nothing
// missed". Otherwise (a restart, a longer gap) the page sends what "session" gave it as the auth payload of
// every connection, and the server logs it in again straight away, before any buffered message is handled.
// Every event the server sends without an ack then carries an offset as its last argument (the client's
// bookmark); the page reads only the first.
//
// sioserver runs handlers one at a time, so the state is plain maps without locks. The history's disk work runs
// on its own threads; what it answers comes back through io.engine().run_handler(), one handler like the others.
#include "../../sioserver_admin.hpp"    // includes sioserver.hpp; the admin UI at /admin/ (needs -lcrypt)
#include "../../sioserver_metrics.hpp"  // Prometheus metrics at /metrics
#include "history.hpp"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

namespace {

const std::vector<std::string> kRooms = {"lobby", "tech", "random"};
constexpr long kMaxNickChars = 20;
constexpr long kMaxMessageChars = 500;

// ---- checking what clients send -------------------------------------------------------------------------------------

std::string trim(const std::string& s) {
    const char* space = " \t\r\n\f\v";
    size_t first = s.find_first_not_of(space);
    if (first == std::string::npos) return "";
    return s.substr(first, s.find_last_not_of(space) - first + 1);
}

std::string lower(std::string s) {  // ASCII only: "Ann" and "ANN" are the same nickname
    for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7F && c <= 0x9F); }

// Invisible characters that could make two nicknames look alike (zero-width, bidirectional overrides).
bool is_invisible(char32_t c) {
    return (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF;
}

// Decodes UTF-8 into code points; false when `s` is not valid UTF-8.
bool decode_utf8(const std::string& s, std::u32string& out) {
    for (size_t i = 0; i < s.size();) {
        unsigned char lead = static_cast<unsigned char>(s[i]);
        if ((lead >= 0x80 && lead < 0xC0) || lead >= 0xF8) return false;         // a continuation byte, or no lead byte
        size_t extra = lead < 0x80 ? 0 : lead < 0xE0 ? 1 : lead < 0xF0 ? 2 : 3;  // the continuation bytes to follow
        if (i + extra >= s.size()) return false;
        char32_t c = extra == 0 ? lead : lead & (0x3F >> extra);
        for (size_t k = 1; k <= extra; ++k) {
            unsigned char next = static_cast<unsigned char>(s[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            c = (c << 6) | (next & 0x3F);
        }
        static const char32_t smallest[] = {0, 0x80, 0x800, 0x10000};
        if (c < smallest[extra] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
        out.push_back(c);
        i += extra + 1;
    }
    return true;
}

// Why `nick` (already trimmed) cannot be a nickname, or "" when it can.
std::string nick_error(const std::string& nick) {
    std::u32string chars;
    if (nick.empty()) return "Please choose a nickname.";
    if (!decode_utf8(nick, chars)) return "That nickname is not valid text.";
    if (long(chars.size()) > kMaxNickChars) return "A nickname can have at most 20 characters.";
    for (char32_t c : chars)
        if (is_control(c) || is_invisible(c)) return "A nickname cannot contain control or invisible characters.";
    return "";
}

// Reads a message's text into `text` (trimmed); returns why it is not acceptable, or "".
std::string read_text(const sio::Value& v, std::string& text) {
    if (!v.is_string()) return "A message must be text.";
    text = trim(v.as_string());
    std::u32string chars;
    if (text.empty()) return "The message is empty.";
    if (!decode_utf8(text, chars)) return "The message is not valid text.";
    if (long(chars.size()) > kMaxMessageChars) return "A message can have at most 500 characters.";
    for (char32_t c : chars)
        if (is_control(c) && c != '\n' && c != '\t') return "A message cannot contain control characters.";
    return "";
}

bool known_room(const sio::Value& v) {
    return v.is_string() && std::find(kRooms.begin(), kRooms.end(), v.as_string()) != kRooms.end();
}

double now_ms() {
    using namespace std::chrono;
    return double(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

// A secret the page keeps to prove, when it reconnects, that it is the one who holds its nickname.
std::string new_token() {
    static std::random_device random;
    static const char* hex = "0123456789abcdef";
    std::string token;
    for (int i = 0; i < 8; ++i) {
        unsigned bits = random();
        for (int k = 0; k < 4; ++k, bits >>= 4) token += hex[bits & 15];
    }
    return token;
}

// A successful answer: ev.ack(ok({...})). (ev.ack() does nothing when the client passed no callback.)
sio::Object ok(sio::Object fields = {}) {
    fields["ok"] = true;
    return fields;
}

// Answers a request that failed (when the client asked for an answer at all).
void fail(sio::Event& ev, const std::string& error) {
    if (ev.has_ack()) ev.ack(sio::Object{{"ok", false}, {"error", error}});
}

// ---- the chat -------------------------------------------------------------------------------------------------------

struct User {
    std::string nick;
    std::string room;
    std::string token;
};

sio::Object to_value(const chatroom::StoredMessage& m) {
    return {{"id", m.id}, {"room", m.room}, {"from", m.from}, {"text", m.text}, {"time", double(m.time)}};
}

sio::Array to_values(const std::vector<chatroom::StoredMessage>& messages) {
    sio::Array list;
    for (const auto& m : messages) list.push_back(to_value(m));
    return list;
}

class Chat {
public:
    Chat(sio::Server& io, chatroom::History& history)
        : io_(io), history_(history), last_message_id_(history.last_id()) {}

    void on_connection(sio::Socket& socket) {
        socket.on("login", [this](sio::Event& ev) { login(ev); });
        socket.on("switch room", [this](sio::Event& ev) { switch_room(ev); });
        socket.on("chat message", [this](sio::Event& ev) { chat_message(ev); });
        socket.on("history", [this](sio::Event& ev) { older_messages(ev); });
        socket.on("private message", [this](sio::Event& ev) { private_message(ev); });
        socket.on("typing", [this](sio::Event& ev) { typing(ev); });
        socket.on("disconnect", [this](sio::Event& ev) { leave_chat(ev.socket()); });

        socket.emit("rooms", room_list());  // the login form shows the rooms too
        // Connection state recovery gave the socket back (same id, rooms and data, and what it missed is already
        // on its way): the user is back where it was, without a new "room" or a new session.
        if (socket.recovered()) {
            if (resume(socket)) return;
            for (auto& room : socket.rooms())  // not back as that user: out of its rooms until it logs in again
                if (room != socket.id()) socket.leave(room);
        }
        // A page that was logged in before sends its session as the auth payload: let it straight back in.
        const sio::Value& auth = socket.handshake().auth;
        if (auth.contains("nick")) {
            std::string error = admit(socket, auth["nick"], auth["room"], auth["token"]);
            if (!error.empty()) socket.emit("login failed", sio::Object{{"error", error}});
        }
    }

private:
    // ---- event handlers

    void login(sio::Event& ev) {
        const sio::Value& form = ev[0];  // {nick, room}; anything else reads as nulls
        std::string error = admit(ev.socket(), form["nick"], form["room"], sio::Value());
        if (!error.empty()) return fail(ev, error);
        ev.ack(ok());
    }

    void switch_room(sio::Event& ev) {
        User* user = user_of(ev.socket());
        if (!user) return fail(ev, "Log in first.");
        if (!known_room(ev[0])) return fail(ev, "There is no such room.");
        std::string room = ev[0].as_string();
        if (room != user->room) {
            User before = *user;
            user->room = room;  // no longer counted in the old room
            ev.socket().leave(before.room);
            announce_departure(before);
            enter_room(ev.socket(), room);
            send_room_list();
        }
        ev.ack(ok({{"room", room}}));
    }

    void chat_message(sio::Event& ev) {
        User* user = user_of(ev.socket());
        if (!user) return fail(ev, "Log in first.");
        std::string text;
        if (std::string error = read_text(ev[0], text); !error.empty()) return fail(ev, error);

        chatroom::StoredMessage stored{last_message_id_ + 1, user->room, user->nick, text,
                                       static_cast<long long>(now_ms())};
        // Queued first: a full queue (the disk far behind) refuses the message before anyone sees it. Once
        // queued, it is part of what newcomers get, and the room gets it now; the sender's answer waits for the
        // commit, so "ok" means saved.
        auto answer = std::make_shared<sio::Event>(ev);  // a copy that keeps the acknowledgement for later
        auto saved = [this, answer, id = stored.id, time = stored.time](const std::string& error) {
            io_.engine().run_handler([&] {
                if (error.empty()) return answer->ack(ok({{"id", id}, {"time", double(time)}}));
                if (answer->has_ack())
                    answer->ack(sio::Object{{"ok", false},
                                            {"delivered", true},
                                            {"id", id},
                                            {"time", double(time)},
                                            {"error", "It reached the room but was not saved (" + error + ")."}});
            });
        };
        sio::Object message = to_value(stored);
        if (!history_.save(std::move(stored), std::move(saved)))
            return fail(ev, "The server is behind with saving messages; please try again in a moment.");
        ++last_message_id_;
        ev.socket().to(user->room).emit("chat message", message);  // not back to the sender: it shows its own
    }

    // A page of older messages: {room, before} with `before` a message id (or null for the newest page).
    void older_messages(sio::Event& ev) {
        if (!user_of(ev.socket())) return fail(ev, "Log in first.");
        const sio::Value& room = ev[0]["room"];
        const sio::Value& before = ev[0]["before"];
        if (!known_room(room)) return fail(ev, "There is no such room.");
        double id = before.as_number();
        if (!before.is_null() && !(before.is_number() && id >= 1 && id <= 9007199254740991.0 && std::floor(id) == id))
            return fail(ev, "\"before\" must be a message id.");
        if (!ev.has_ack()) return;  // nobody to answer
        auto answer = std::make_shared<sio::Event>(ev);
        std::string name = room.as_string();
        auto page = [this, answer, name](std::vector<chatroom::StoredMessage> messages, bool more,
                                         const std::string& error) {
            io_.engine().run_handler([&] {
                if (!error.empty()) return fail(*answer, "The history cannot be read right now (" + error + ").");
                answer->ack(ok({{"room", name}, {"messages", to_values(messages)}, {"more", more}}));
            });
        };
        if (!history_.older(name, static_cast<long long>(id), std::move(page)))
            fail(ev, "Too many requests for older messages at once; please try again in a moment.");
    }

    void private_message(sio::Event& ev) {
        User* user = user_of(ev.socket());
        if (!user) return fail(ev, "Log in first.");
        const sio::Value& to = ev[0]["to"];
        std::string text;
        if (std::string error = read_text(ev[0]["text"], text); !error.empty()) return fail(ev, error);
        std::string target = to.is_string() ? find_by_nick(trim(to.as_string())) : "";
        if (target.empty()) return fail(ev, "Nobody with that nickname is online.");
        if (target == ev.socket().id()) return fail(ev, "That is you.");

        const User& peer = users_[target];
        sio::Object message{{"from", user->nick}, {"to", peer.nick}, {"text", text}, {"time", now_ms()}};
        io_.to(target).emit("private message", message);  // every socket is in a room named after its id
        ev.ack(ok({{"to", peer.nick}, {"time", message["time"]}}));
    }

    void typing(sio::Event& ev) {
        User* user = user_of(ev.socket());
        if (!user) return fail(ev, "Log in first.");
        if (!ev[0].is_bool()) return fail(ev, "Expected true or false.");
        ev.socket().to(user->room).emit("typing", sio::Object{{"nick", user->nick}, {"typing", ev[0].as_bool()}});
    }

    // On "disconnect" the socket has already left its rooms; the others hear that the user left.
    void leave_chat(sio::Socket& socket) {
        auto it = users_.find(socket.id());
        if (it == users_.end()) return;  // never logged in, or replaced by a newer connection
        User user = it->second;
        users_.erase(it);
        announce_departure(user);
        send_room_list();
        std::cout << user.nick << " left" << std::endl;
    }

    // ---- entering and leaving

    // Lets `socket` in as `nick` in `room` (lobby when null); returns why not, or "" when it is in. A matching
    // `token` (from an earlier "session") takes the nickname back from the same person's older connection,
    // one the server has not yet seen die.
    std::string admit(sio::Socket& socket, const sio::Value& nick_arg, const sio::Value& room_arg,
                      const sio::Value& token) {
        if (user_of(socket)) return "You are already in the chat.";
        if (!nick_arg.is_string()) return "Please choose a nickname.";
        std::string nick = trim(nick_arg.as_string());
        if (std::string error = nick_error(nick); !error.empty()) return error;
        if (!room_arg.is_null() && !known_room(room_arg)) return "There is no such room.";
        std::string room = room_arg.is_null() ? kRooms[0] : room_arg.as_string();

        if (std::string holder = find_by_nick(nick); !holder.empty()) {
            bool same_person = token.is_string() && token.as_string() == users_[holder].token;
            if (!same_person) return "The nickname \"" + nick + "\" is taken. Please choose another one.";
            replace(holder);
        }
        User& user = users_[socket.id()];
        user.nick = nick;
        user.token = new_token();
        socket.data()["nick"] = nick;  // what connection state recovery gives back (see resume)
        socket.data()["token"] = user.token;
        socket.emit("session", sio::Object{{"nick", nick}, {"room", room}, {"token", user.token}});
        enter_room(socket, room);
        send_room_list();
        std::cout << nick << " joined #" << room << std::endl;
        return "";
    }

    // A recovered socket: the user it was, from socket.data(), unless someone took the nickname meanwhile (then
    // the page logs in again as usual). It is in its room already; the others hear that it is back.
    bool resume(sio::Socket& socket) {
        const sio::Value& data = socket.data();
        if (!data["nick"].is_string() || !known_room(data["room"])) return false;
        std::string nick = data["nick"].as_string(), room = data["room"].as_string();
        if (!find_by_nick(nick).empty()) return false;
        users_[socket.id()] = User{nick, room, data["token"].as_string()};
        socket.to(room).emit("notice", notice(room, nick + " is back"));
        send_users(room);
        send_room_list();
        std::cout << nick << " is back in #" << room << " (connection state recovered)" << std::endl;
        return true;
    }

    // The person behind the user at `sid` came back on a newer connection: the old one goes.
    void replace(const std::string& sid) {
        User old = users_[sid];
        users_.erase(sid);  // first, so that its "disconnect" below finds nothing to do
        auto sockets = io_.sockets.sockets();
        auto it = sockets.find(sid);
        if (it != sockets.end()) it->second->leave(old.room);
        announce_departure(old);
        if (it != sockets.end()) {
            it->second->emit("replaced");
            it->second->disconnect();
        }
    }

    void enter_room(sio::Socket& socket, const std::string& room) {
        User& user = users_[socket.id()];
        user.room = room;
        socket.data()["room"] = room;
        socket.join(room);
        // From memory: the newest messages the history read at start, plus every one since (saved or queued).
        bool older = false;
        sio::Array recent = to_values(history_.recent(room, &older));
        socket.emit(
            "room",
            sio::Object{{"room", room}, {"users", nicks_in(room)}, {"history", std::move(recent)}, {"older", older}});
        socket.to(room).emit("notice", notice(room, user.nick + " joined"));
        send_users(room);
    }

    // Tells the room of `user` (which the user has already left) that the user is gone.
    void announce_departure(const User& user) {
        io_.to(user.room).emit("notice", notice(user.room, user.nick + " left"));
        send_users(user.room);
    }

    // ---- what everybody sees

    void send_users(const std::string& room) {
        io_.to(room).emit("users", sio::Object{{"room", room}, {"users", nicks_in(room)}});
    }
    void send_room_list() { io_.emit("rooms", room_list()); }

    sio::Array room_list() const {
        sio::Array list;
        for (const auto& room : kRooms) list.push_back(sio::Object{{"name", room}, {"users", count_in(room)}});
        return list;
    }

    sio::Array nicks_in(const std::string& room) const {
        std::vector<std::string> nicks;
        for (const auto& entry : users_)
            if (entry.second.room == room) nicks.push_back(entry.second.nick);
        std::sort(nicks.begin(), nicks.end(),
                  [](const std::string& a, const std::string& b) { return lower(a) < lower(b); });
        return sio::Array(nicks.begin(), nicks.end());
    }

    size_t count_in(const std::string& room) const {
        return static_cast<size_t>(
            std::count_if(users_.begin(), users_.end(), [&](const auto& entry) { return entry.second.room == room; }));
    }

    static sio::Object notice(const std::string& room, const std::string& text) {
        return {{"room", room}, {"text", text}, {"time", now_ms()}};
    }

    // ---- looking users up

    User* user_of(const sio::Socket& socket) {
        auto it = users_.find(socket.id());
        return it == users_.end() ? nullptr : &it->second;
    }

    // The socket id of the user called `nick` (in any case), or "".
    std::string find_by_nick(const std::string& nick) const {
        for (const auto& entry : users_)
            if (lower(entry.second.nick) == lower(nick)) return entry.first;
        return "";
    }

    sio::Server& io_;
    chatroom::History& history_;         // the messages of every room, on disk
    std::map<std::string, User> users_;  // by socket id: everyone who is logged in
    long long last_message_id_;          // numbering goes on from the history's last id
};

// Serves one file of this example's folder (read on every request, so edits show on reload).
void serve_file(sio::Server& io, const std::string& route, const std::string& path, const std::string& type) {
    io.http().Get(route, [path, type](const httplib::Request&, httplib::Response& res) {
        std::ifstream file(path);
        if (!file) {
            res.status = 404;
            return;
        }
        std::stringstream content;
        content << file.rdbuf();
        res.set_content(content.str(), type + "; charset=utf-8");
        res.set_header("X-Content-Type-Options", "nosniff");
        // Only this server's own scripts and styles: even injected HTML could not run anything.
        res.set_header("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'");
    });
}

// CHATROOM_DB, or chatroom.db in the binary's folder (build/chatroom.db for `make run`).
std::string database_path() {
    if (const char* path = std::getenv("CHATROOM_DB"); path && *path) return path;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    std::string self = n > 0 ? std::string(exe, static_cast<size_t>(n)) : "./chatroom";
    return self.substr(0, self.rfind('/') + 1) + "chatroom.db";
}

}  // namespace

int main() {
    int port = std::getenv("PORT") ? std::atoi(std::getenv("PORT")) : 3000;  // PORT=0 picks a free port
    std::string dir = std::string(__FILE__).substr(0, std::string(__FILE__).rfind('/') + 1);

    // Ctrl-C and SIGTERM stop the server and then the history, which commits what is still queued: a thread of
    // our own takes them (blocked in every other thread, which all start after this).
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    sio::Options options;
    // A page whose network drops for a while (up to two minutes) comes back as the same socket, in its room,
    // and gets every message it missed meanwhile. This process keeps the sessions: on several nodes, the Redis
    // Streams adapter (io.adapter(sio::redis::createStreamsAdapter(...)), sioserver_redis.hpp) keeps them in Redis,
    // and a page would come back so on any node; the users, online lists and history here would still be this
    // process's own (README, "What crosses nodes").
    options.connectionStateRecovery = sio::ConnectionStateRecoveryOptions{};
    const char* cert = std::getenv("SIO_TLS_CERT");
    const char* key = std::getenv("SIO_TLS_KEY");
    if (cert && *cert && key && *key) options.tls = sio::TlsOptions{cert, key};
    double per_second = 50, burst = 100;
    if (const char* rate = std::getenv("CHATROOM_EVENT_RATE"); rate && *rate)
        if (std::sscanf(rate, "%lf:%lf", &per_second, &burst) < 1) per_second = 0;
    if (per_second > 0) {
        options.eventRateLimit = sio::Options::EventRateLimit{};
        options.eventRateLimit->perSecond = per_second;
        options.eventRateLimit->burst = burst;
    }
    sio::Server io(options);   // serves /socket.io/socket.io.js itself
    sio::metrics::expose(io);  // GET /metrics
    // The admin UI (@socket.io/admin-ui's dashboard) at /admin/: with ADMIN_USER and ADMIN_PASSWORD set, a login
    // (the password is bcrypt-hashed here; ADMIN_PASSWORD_HASH takes a hash instead), otherwise open to anyone.
    sio::admin::Options admin;
    admin.uiPath = "/admin/";
    const char* user = std::getenv("ADMIN_USER");
    const char* password = std::getenv("ADMIN_PASSWORD");
    const char* hash = std::getenv("ADMIN_PASSWORD_HASH");
    if (user && *user && ((password && *password) || (hash && *hash)))
        admin.auth = sio::admin::BasicAuth{user, hash && *hash ? hash : sio::admin::hash_password(password)};
    else admin.auth = false;
    sio::instrument(io, admin);
    // Opened before listening, so a bad file stops the chat here; destroyed before `io` (it commits what is
    // queued and answers through io's handler lock).
    std::unique_ptr<chatroom::History> history;
    try {
        history = std::make_unique<chatroom::History>(database_path(), kRooms);
    } catch (const chatroom::HistoryError& e) {
        std::cerr << "chatroom: the chat history cannot be used: " << e.what() << std::endl;
        return 1;
    }
    std::cout << "chat history in " << database_path() << std::endl;

    serve_file(io, "/", dir + "index.html", "text/html");
    serve_file(io, "/chatroom.css", dir + "chatroom.css", "text/css");
    serve_file(io, "/chatroom.js", dir + "chatroom.js", "text/javascript");

    Chat chat(io, *history);
    io.on_connection([&chat](sio::Socket& socket) { chat.on_connection(socket); });

    int bound = io.start("0.0.0.0", port);
    if (bound < 0) {
        std::cerr << "cannot listen on port " << port << std::endl;
        return 1;
    }
    std::cout << "listening on " << (options.tls ? "https" : "http") << "://localhost:" << bound << std::endl;
    std::cout << "admin UI on http://localhost:" << bound << "/admin/"
              << (std::holds_alternative<bool>(admin.auth) ? " WITHOUT a password: anyone who reaches this port can "
                                                             "watch and disconnect users (set ADMIN_USER and "
                                                             "ADMIN_PASSWORD to require a login)"
                                                           : " (log in as $ADMIN_USER)")
              << std::endl;
    std::thread stopper([&io, &signals] {
        int sig = 0;
        sigwait(&signals, &sig);
        io.close();
    });
    io.wait();
    stopper.join();
    history.reset();  // before `io`, whose handler lock its last answers take
    std::cout << "stopped" << std::endl;
}
