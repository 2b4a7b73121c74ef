// history.hpp — the chat room's message history, kept in one SQLite file so that a restart forgets nothing.
//
// WHAT   chatroom::History stores every room message and answers two questions: "the newest messages of a room"
//        (what a user sees on joining it) and "the messages of a room before id X" (the "load older messages"
//        page). It knows nothing of Socket.IO; examples/chatroom/chatroom.cpp turns its messages into events.
// NEEDS  SQLite 3 (Debian: libsqlite3-dev; link with -lsqlite3), POSIX (flock), C++17 threads.
// HOW    One database file, in WAL mode, so a reader never waits for the writer and a commit is one append to the
//        -wal file. Writes are off the caller's thread: save() puts the message in a bounded queue and returns at
//        once; a writer thread commits the queue in batches and then calls each message's callback. The chat
//        broadcasts a message before it is saved, so a slow or locked disk delays the sender's acknowledgement,
//        never the room. Pages of older messages are read on a reader thread of their own, with its own
//        connection, for the same reason.
//        The newest messages of each room (read from the file at start, then every message as it is queued) are
//        kept in memory too: joining a room reads no disk, and a message still waiting in the queue is already
//        part of what a newcomer sees, and of the pages of older messages.
// FAILS  Opening throws HistoryError with a sentence to print: the file cannot be opened or created, another
//        process of the chat holds it, it is not a SQLite database, it is corrupt, or it is a database of
//        something else. At run time nothing throws: a full queue makes save() return false, a lock held by
//        another process makes the writer wait and retry (messages wait in the queue), and any other failed
//        commit reaches the callbacks of its messages as an error text (those messages also leave the memory of
//        the newest ones, so what a newcomer sees is what is on disk or on its way there).
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace chatroom {

// One room message as stored. `time` is milliseconds since the Unix epoch.
struct StoredMessage {
    long long id = 0;
    std::string room;
    std::string from;
    std::string text;
    long long time = 0;
};

// What History's constructor throws: a complete sentence naming the file and what to do about it.
class HistoryError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct HistoryLimits {
    size_t queue = 1000;  // messages accepted but not yet committed; save() refuses beyond that
    size_t recent = 50;   // newest messages of a room kept in memory (what a user sees on joining)
    size_t page = 50;     // messages in one page of older messages
    size_t reads = 64;    // page requests waiting for the reader; older() refuses beyond that
};

class History {
public:
    // Called on the writer thread once the message is committed (error "") or could not be (why).
    using Saved = std::function<void(const std::string& error)>;
    // Called on the reader thread with a page (oldest first), whether older ones exist, and an error or "".
    using Page = std::function<void(std::vector<StoredMessage> messages, bool more, const std::string& error)>;

    // Opens (or creates) the database at `path` and reads the newest messages of each of `rooms`. Throws
    // HistoryError when the file cannot serve as the chat's history.
    History(const std::string& path, const std::vector<std::string>& rooms, HistoryLimits limits = {});
    // Commits what is still queued (waiting at most a few seconds for a lock another process holds), then stops.
    ~History();
    History(const History&) = delete;
    History& operator=(const History&) = delete;

    // The largest message id ever stored: the chat numbers its messages on from there.
    long long last_id() const { return last_id_; }
    // The newest messages of `room`, oldest first, queued ones included; `older` tells whether the room has
    // messages before them (a page to load). No disk access.
    std::vector<StoredMessage> recent(const std::string& room, bool* older = nullptr) const;
    // Queues `message` for the writer; false (and `done` is dropped) when the queue is full.
    bool save(StoredMessage message, Saved done);
    // Asks the reader for the page of `room` before id `before` (0: from the newest); false when too many wait.
    bool older(const std::string& room, long long before, Page done);

private:
    struct Pending {
        StoredMessage message;
        Saved done;
    };
    struct Read {
        std::string room;
        long long before;
        Page done;
    };
    struct Tail {                            // the newest messages of one room
        std::deque<StoredMessage> messages;  // oldest first
        bool older = false;                  // the room has messages before these
    };

    // ---- the SQLite calls, each turning a failure into text
    static std::string describe(sqlite3* db, int rc) {
        std::string what = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
        return what.empty() ? sqlite3_errstr(rc) : what;
    }
    // Runs SQL with no result rows; returns the result code (the message is in `error` when it is not SQLITE_OK).
    static int exec(sqlite3* db, const char* sql, std::string* error = nullptr) {
        char* message = nullptr;
        int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
        if (rc != SQLITE_OK && error) *error = message ? message : describe(db, rc);
        sqlite3_free(message);
        return rc;
    }
    static sqlite3_stmt* prepare(sqlite3* db, const char* sql, const std::string& path) {
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        if (rc != SQLITE_OK)
            throw HistoryError(path + " is not a chat history database (" + describe(db, rc) +
                               "). Point CHATROOM_DB at another file, or move this one away.");
        return stmt;
    }
    static std::string column_text(sqlite3_stmt* stmt, int column) {
        const unsigned char* text = sqlite3_column_text(stmt, column);
        return text ? reinterpret_cast<const char*>(text) : "";
    }
    static StoredMessage read_row(sqlite3_stmt* stmt) {  // columns: id, room, sender, text, time
        return {sqlite3_column_int64(stmt, 0), column_text(stmt, 1), column_text(stmt, 2), column_text(stmt, 3),
                sqlite3_column_int64(stmt, 4)};
    }

    void open_writer();
    void open_reader();
    void load_recent(const std::vector<std::string>& rooms);
    void close_all();
    void write_loop();
    std::string commit(const std::vector<Pending>& batch);
    std::string insert_all(const std::vector<Pending>& batch);
    void read_loop();
    std::string read_page(const std::string& room, long long before, std::vector<StoredMessage>& rows);

    const std::string path_;
    const HistoryLimits limits_;
    int lock_fd_ = -1;                // the file itself, flock()ed: one chat process per database
    sqlite3* writer_ = nullptr;       // used by the constructor, then by the writer thread only
    sqlite3* reader_ = nullptr;       // used by the reader thread only
    sqlite3_stmt* insert_ = nullptr;  // writer_'s
    sqlite3_stmt* page_ = nullptr;    // reader_'s
    long long last_id_ = 0;

    mutable std::mutex mu_;  // everything below (never held across SQLite calls or callbacks)
    std::condition_variable write_cv_, read_cv_;
    std::deque<Pending> queue_;  // accepted, not yet committed; the writer pops a batch once it is done
    std::deque<Read> reads_;
    std::map<std::string, Tail> recent_;  // by room
    bool stopping_ = false;
    std::chrono::steady_clock::time_point stopped_at_;  // when stopping_ was set
    std::thread writer_thread_, reader_thread_;
};

// ---- opening --------------------------------------------------------------------------------------------------------

// The schema. `id` is the rowid, given by the chat (it numbers messages before they are saved, so the broadcast
// can carry the id); the index on (room, id) serves both "newest of a room" and "of a room before id X".
// user_version says which schema a file has, so a later version of the example can migrate it.
constexpr int kSchemaVersion = 1;
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS messages ("
    "  id     INTEGER PRIMARY KEY,"
    "  room   TEXT    NOT NULL,"
    "  sender TEXT    NOT NULL,"
    "  text   TEXT    NOT NULL,"
    "  time   INTEGER NOT NULL);"  // ms since the epoch
    "CREATE INDEX IF NOT EXISTS messages_by_room ON messages (room, id);"
    "PRAGMA user_version = 1;";

inline History::History(const std::string& path, const std::vector<std::string>& rooms, HistoryLimits limits)
    : path_(path), limits_(limits) {
    try {
        open_writer();
        load_recent(rooms);
        open_reader();
    } catch (...) {
        close_all();
        throw;
    }
    writer_thread_ = std::thread([this] { write_loop(); });
    reader_thread_ = std::thread([this] { read_loop(); });
}

inline void History::open_writer() {
    // open(2) first: its errno says plainly why a path is unusable (no such directory, permission denied, a
    // directory), where SQLite would only say "unable to open database file".
    lock_fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0)
        throw HistoryError("cannot open " + path_ + " for writing: " + std::strerror(errno) +
                           ". Set CHATROOM_DB to a file in a writable directory.");
    // Two chat processes on one file would hand out the same message ids. flock() does not interact with the
    // fcntl() locks SQLite takes; this descriptor stays open until the connections are closed, so closing it
    // cannot drop those locks either.
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
        throw HistoryError(path_ + " is in use by another chatroom process: " + std::strerror(errno) +
                           ". Stop it, or give this one its own CHATROOM_DB.");

    int rc = sqlite3_open_v2(path_.c_str(), &writer_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) throw HistoryError("cannot open " + path_ + ": " + describe(writer_, rc) + ".");
    sqlite3_extended_result_codes(writer_, 1);
    sqlite3_busy_timeout(writer_, 5000);  // at start: another process may be in the middle of a write

    // The first statement reads the file's header: a file that is not SQLite fails here ("file is not a
    // database"). WAL is a property of the file; it needs the -wal and -shm files beside it, hence the check.
    std::string mode, error;
    auto keep_mode = [](void* out, int, char** values, char**) {
        *static_cast<std::string*>(out) = values[0] ? values[0] : "";
        return 0;
    };
    char* message = nullptr;
    rc = sqlite3_exec(writer_, "PRAGMA journal_mode = WAL", keep_mode, &mode, &message);
    if (rc != SQLITE_OK) error = message ? message : describe(writer_, rc);
    sqlite3_free(message);
    if (rc == SQLITE_NOTADB || (rc & 0xff) == SQLITE_CORRUPT)
        throw HistoryError(path_ + " is not a usable SQLite database (" + error +
                           "). Move it away (or delete it) to start with an empty history, or restore a backup.");
    if (rc != SQLITE_OK) throw HistoryError("cannot use " + path_ + ": " + error + ".");
    if (mode != "wal")
        throw HistoryError("cannot put " + path_ + " in WAL mode (journal mode stays \"" + mode +
                           "\"): its directory must be writable for the -wal and -shm files.");
    // FULL: a commit reaches the disk before its acknowledgement goes out, so "saved" holds across a power cut,
    // not only across a crash of the process. Batching keeps that to one fsync per batch.
    exec(writer_, "PRAGMA synchronous = FULL");

    // A quick structural check (it reads every page once: milliseconds for a chat's history) turns a damaged
    // file into a clear message now instead of failures later.
    std::string verdict;
    message = nullptr;
    rc = sqlite3_exec(writer_, "PRAGMA quick_check(1)", keep_mode, &verdict, &message);
    if (rc != SQLITE_OK) verdict = message ? message : describe(writer_, rc);
    sqlite3_free(message);
    std::replace(verdict.begin(), verdict.end(), '\n', ' ');  // one line on stderr
    if (verdict != "ok")
        throw HistoryError(path_ + " is corrupt (" + verdict +
                           "). Move it away (with its -wal and -shm files) to start with an empty history, or "
                           "restore a backup.");

    int version = 0;
    auto keep_int = [](void* out, int, char** values, char**) {
        *static_cast<int*>(out) = values[0] ? std::atoi(values[0]) : 0;
        return 0;
    };
    sqlite3_exec(writer_, "PRAGMA user_version", keep_int, &version, nullptr);
    if (version > kSchemaVersion)
        throw HistoryError(path_ + " was written by a newer chatroom (schema " + std::to_string(version) +
                           ", this one knows " + std::to_string(kSchemaVersion) + ").");
    // In one write transaction: this is also where a read-only file or a lock that never goes away shows.
    if (exec(writer_, "BEGIN IMMEDIATE", &error) != SQLITE_OK || exec(writer_, kSchema, &error) != SQLITE_OK ||
        exec(writer_, "COMMIT", &error) != SQLITE_OK) {
        exec(writer_, "ROLLBACK");
        throw HistoryError("cannot write to " + path_ + ": " + error + ".");
    }
    sqlite3_busy_timeout(writer_, 200);  // from now on the writer thread retries a lock itself (write_loop)

    insert_ = prepare(writer_, "INSERT INTO messages (id, room, sender, text, time) VALUES (?, ?, ?, ?, ?)", path_);
    sqlite3_stmt* max_id = prepare(writer_, "SELECT coalesce(max(id), 0) FROM messages", path_);
    if (sqlite3_step(max_id) == SQLITE_ROW) last_id_ = sqlite3_column_int64(max_id, 0);
    sqlite3_finalize(max_id);
}

inline void History::load_recent(const std::vector<std::string>& rooms) {
    sqlite3_stmt* newest = prepare(
        writer_, "SELECT id, room, sender, text, time FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?", path_);
    for (const auto& room : rooms) {
        Tail& tail = recent_[room];
        sqlite3_bind_text(newest, 1, room.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(newest, 2, static_cast<sqlite3_int64>(limits_.recent + 1));  // one more: any older?
        int rc;
        while ((rc = sqlite3_step(newest)) == SQLITE_ROW) tail.messages.push_front(read_row(newest));
        sqlite3_reset(newest);
        if (tail.messages.size() > limits_.recent) {
            tail.messages.pop_front();
            tail.older = true;
        }
        if (rc != SQLITE_DONE) {
            std::string error = describe(writer_, rc);
            sqlite3_finalize(newest);
            throw HistoryError("cannot read " + path_ + ": " + error + ".");
        }
    }
    sqlite3_finalize(newest);
}

inline void History::open_reader() {
    int rc = sqlite3_open_v2(path_.c_str(), &reader_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) throw HistoryError("cannot open " + path_ + " for reading: " + describe(reader_, rc) + ".");
    sqlite3_extended_result_codes(reader_, 1);
    sqlite3_busy_timeout(reader_, 2000);  // WAL readers wait only in rare moments (a checkpoint resetting the log)
    page_ = prepare(reader_,
                    "SELECT id, room, sender, text, time FROM messages WHERE room = ? AND id < ? "
                    "ORDER BY id DESC LIMIT ?",
                    path_);
}

inline void History::close_all() {
    sqlite3_finalize(insert_);  // finalize and close accept null
    sqlite3_finalize(page_);
    sqlite3_close(reader_);
    sqlite3_close(writer_);  // the last connection: it checkpoints the log into the file
    insert_ = page_ = nullptr;
    reader_ = writer_ = nullptr;
    if (lock_fd_ >= 0) ::close(lock_fd_);  // only now: the connections' locks are gone
    lock_fd_ = -1;
}

inline History::~History() {
    {
        std::lock_guard<std::mutex> lk(mu_);
        stopping_ = true;
        stopped_at_ = std::chrono::steady_clock::now();
        if (!queue_.empty())
            std::cerr << "chatroom: stopping; saving " << queue_.size() << " queued message(s) first" << std::endl;
    }
    write_cv_.notify_all();
    read_cv_.notify_all();
    writer_thread_.join();
    reader_thread_.join();
    close_all();
}

// ---- what the chat calls (under its handler lock: memory only, never SQLite) ----------------------------------------

inline std::vector<StoredMessage> History::recent(const std::string& room, bool* older) const {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = recent_.find(room);
    if (older) *older = it != recent_.end() && it->second.older;
    if (it == recent_.end()) return {};
    return std::vector<StoredMessage>(it->second.messages.begin(), it->second.messages.end());
}

inline bool History::save(StoredMessage message, Saved done) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (stopping_ || queue_.size() >= limits_.queue) return false;
        if (message.id > last_id_) last_id_ = message.id;
        Tail& tail = recent_[message.room];
        tail.messages.push_back(message);
        if (tail.messages.size() > limits_.recent) {
            tail.messages.pop_front();
            tail.older = true;
        }
        queue_.push_back({std::move(message), std::move(done)});
    }
    write_cv_.notify_one();
    return true;
}

inline bool History::older(const std::string& room, long long before, Page done) {
    {
        std::lock_guard<std::mutex> lk(mu_);
        if (stopping_ || reads_.size() >= limits_.reads) return false;
        reads_.push_back({room, before, std::move(done)});
    }
    read_cv_.notify_one();
    return true;
}

// ---- the writer thread ----------------------------------------------------------------------------------------------

inline void History::write_loop() {
    constexpr size_t kBatch = 256;  // messages per transaction: one fsync for all of them
    for (;;) {
        std::vector<Pending> batch;
        {
            std::unique_lock<std::mutex> lk(mu_);
            write_cv_.wait(lk, [&] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping, and everything is written
            // Copies: the messages stay in the queue until they are committed, for older() to see.
            size_t n = std::min(queue_.size(), kBatch);
            batch.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
        }
        std::vector<std::string> errors(batch.size(), commit(batch));
        // A batch fails as a whole; one message at a time, only the ones that cannot be written fail.
        if (batch.size() > 1 && !errors[0].empty())
            for (size_t i = 0; i < batch.size(); ++i) errors[i] = commit({batch[i]});
        size_t failed = 0;
        {
            std::lock_guard<std::mutex> lk(mu_);
            queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(batch.size()));
            for (size_t i = 0; i < batch.size(); ++i) {
                if (errors[i].empty()) continue;
                ++failed;  // not on disk: not in what newcomers see either
                auto& list = recent_[batch[i].message.room].messages;
                list.erase(std::remove_if(list.begin(), list.end(),
                                          [&](const StoredMessage& m) { return m.id == batch[i].message.id; }),
                           list.end());
            }
        }
        if (failed)
            std::cerr << "chatroom: " << failed << " message(s) not saved in " << path_ << ": "
                      << *std::find_if(errors.begin(), errors.end(), [](const std::string& e) { return !e.empty(); })
                      << std::endl;
        for (size_t i = 0; i < batch.size(); ++i)
            if (batch[i].done) batch[i].done(errors[i]);
    }
}

// Writes `batch` in one transaction; returns "" or why it is not saved. A write lock that another process holds
// (the sqlite3 shell, a backup) is waited out: like a slow disk, it only makes the queue longer. When the chat
// stops, that wait is bounded so that the process can exit.
inline std::string History::commit(const std::vector<Pending>& batch) {
    bool said_locked = false;
    for (;;) {
        std::string error;
        int rc = exec(writer_, "BEGIN IMMEDIATE", &error);
        if (rc == SQLITE_OK) {
            error = insert_all(batch);
            if (error.empty() && exec(writer_, "COMMIT", &error) == SQLITE_OK) {
                if (said_locked) std::cerr << "chatroom: " << path_ << " is writable again" << std::endl;
                return "";
            }
            exec(writer_, "ROLLBACK");
            return error;
        }
        if ((rc & 0xff) != SQLITE_BUSY) return error;
        if (!said_locked) {
            std::cerr << "chatroom: " << path_ << " is locked by another process; messages wait in memory" << std::endl;
            said_locked = true;
        }
        std::lock_guard<std::mutex> lk(mu_);
        if (stopping_ && std::chrono::steady_clock::now() - stopped_at_ > std::chrono::seconds(5))
            return "the database stayed locked while the chat was stopping";
    }
}

inline std::string History::insert_all(const std::vector<Pending>& batch) {
    for (const auto& p : batch) {
        const StoredMessage& m = p.message;
        sqlite3_bind_int64(insert_, 1, m.id);
        sqlite3_bind_text(insert_, 2, m.room.data(), static_cast<int>(m.room.size()), SQLITE_STATIC);
        sqlite3_bind_text(insert_, 3, m.from.data(), static_cast<int>(m.from.size()), SQLITE_STATIC);
        sqlite3_bind_text(insert_, 4, m.text.data(), static_cast<int>(m.text.size()), SQLITE_STATIC);
        sqlite3_bind_int64(insert_, 5, m.time);
        int rc = sqlite3_step(insert_);
        std::string error = rc == SQLITE_DONE ? "" : describe(writer_, rc);
        sqlite3_reset(insert_);
        sqlite3_clear_bindings(insert_);  // the bound texts belong to `batch`
        if (!error.empty()) return error;
    }
    return "";
}

// ---- the reader thread ----------------------------------------------------------------------------------------------

inline void History::read_loop() {
    for (;;) {
        Read request;
        std::vector<StoredMessage> queued;  // of the room, older than `before`, not yet committed
        {
            std::unique_lock<std::mutex> lk(mu_);
            read_cv_.wait(lk, [&] { return stopping_ || !reads_.empty(); });
            if (stopping_) break;
            request = std::move(reads_.front());
            reads_.pop_front();
            // Taken before the query: a message committed in between is then in both, and counted once below;
            // one that is in neither cannot exist (it was committed before the query began).
            for (const auto& p : queue_)
                if (p.message.room == request.room && (request.before <= 0 || p.message.id < request.before))
                    queued.push_back(p.message);
        }
        std::vector<StoredMessage> rows;
        std::string error = read_page(request.room, request.before, rows);
        if (!error.empty()) {
            request.done({}, false, error);
            continue;
        }
        rows.insert(rows.end(), queued.begin(), queued.end());
        std::sort(rows.begin(), rows.end(), [](const StoredMessage& a, const StoredMessage& b) { return a.id > b.id; });
        rows.erase(std::unique(rows.begin(), rows.end(),
                               [](const StoredMessage& a, const StoredMessage& b) { return a.id == b.id; }),
                   rows.end());
        bool more = rows.size() > limits_.page;
        if (more) rows.resize(limits_.page);
        std::reverse(rows.begin(), rows.end());  // oldest first, as the page shows them
        request.done(std::move(rows), more, "");
    }
    // Stopping: whoever still waits for a page hears why it will not come.
    std::deque<Read> left;
    {
        std::lock_guard<std::mutex> lk(mu_);
        left.swap(reads_);
    }
    for (auto& r : left) r.done({}, false, "the chat is stopping");
}

// The newest page + 1 rows of `room` before `before`, newest first (the extra row tells whether there are more).
inline std::string History::read_page(const std::string& room, long long before, std::vector<StoredMessage>& rows) {
    sqlite3_bind_text(page_, 1, room.data(), static_cast<int>(room.size()), SQLITE_STATIC);
    sqlite3_bind_int64(page_, 2, before > 0 ? before : std::numeric_limits<sqlite3_int64>::max());
    sqlite3_bind_int64(page_, 3, static_cast<sqlite3_int64>(limits_.page + 1));
    int rc;
    while ((rc = sqlite3_step(page_)) == SQLITE_ROW) rows.push_back(read_row(page_));
    std::string error = rc == SQLITE_DONE ? "" : describe(reader_, rc);
    sqlite3_reset(page_);
    sqlite3_clear_bindings(page_);
    return error;
}

}  // namespace chatroom
