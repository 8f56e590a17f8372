// A scripted HTTP server on 127.0.0.1, for what s3rver cannot show: the exact requests libcurl sends (to check their
// SigV4 signatures, which s3rver never checks) and answers no honest store gives (a part's ETag that is not its MD5,
// a 200 whose body is an <Error>). A handler computes each answer from the request. One request per connection
// (every answer says Connection: close), served one after another by one thread; the destructor stops it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dr::test {

class FakeStore {
 public:
  struct Request {
    std::string method;
    std::string target;                          // path and query, as sent
    std::map<std::string, std::string> headers;  // names lower case
    std::string body;
    std::string path() const { return target.substr(0, target.find('?')); }
    std::string query() const {
      const auto mark = target.find('?');
      return mark == std::string::npos ? std::string() : target.substr(mark + 1);
    }
    std::string header(const std::string& name) const {
      const auto found = headers.find(name);
      return found == headers.end() ? std::string() : found->second;
    }
  };
  struct Answer {
    int status = 200;
    std::vector<std::string> headers;  // "Name: value"
    std::string body;
  };
  using Handler = std::function<Answer(const Request&)>;

  explicit FakeStore(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        listen(listen_fd_, 16) != 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("FakeStore: cannot listen on 127.0.0.1");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeStore() {
    stopping_ = true;
    thread_.join();
    close(listen_fd_);
  }
  FakeStore(const FakeStore&) = delete;
  FakeStore& operator=(const FakeStore&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Request> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stopping_) {
      pollfd waiting{listen_fd_, POLLIN, 0};
      if (poll(&waiting, 1, 50) <= 0) continue;
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      handle(fd);
      close(fd);
    }
  }

  // Reads until `buffer` holds at least `size` bytes; false when the peer went away or stopped sending (2 s).
  bool fill(int fd, std::string& buffer, std::size_t size) {
    char chunk[65536];
    while (buffer.size() < size) {
      pollfd readable{fd, POLLIN, 0};
      if (poll(&readable, 1, 2000) <= 0) return false;
      const ssize_t got = read(fd, chunk, sizeof chunk);
      if (got <= 0) return false;
      buffer.append(chunk, static_cast<std::size_t>(got));
    }
    return true;
  }

  void handle(int fd) {
    std::string buffer;
    std::size_t end = std::string::npos;
    while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (buffer.size() > (1u << 20) || !fill(fd, buffer, buffer.size() + 1)) return;
    }
    Request request;
    std::string head = buffer.substr(0, end);
    buffer.erase(0, end + 4);
    std::size_t line_end = head.find("\r\n");
    const std::string request_line = head.substr(0, line_end);
    const auto space = request_line.find(' ');
    request.method = request_line.substr(0, space);
    request.target = request_line.substr(space + 1, request_line.rfind(' ') - space - 1);
    while (line_end != std::string::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      request.headers[name] = value;
    }
    if (request.header("expect") == "100-continue") sendAll(fd, "HTTP/1.1 100 Continue\r\n\r\n");
    const std::string length = request.header("content-length");
    const std::size_t size = length.empty() ? 0 : std::stoul(length);
    if (!fill(fd, buffer, size)) return;
    request.body = buffer.substr(0, size);
    const Answer answer = handler_(request);
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    std::string text = "HTTP/1.1 " + std::to_string(answer.status) + " Answer\r\nConnection: close\r\n";
    for (const auto& header : answer.headers) text += header + "\r\n";
    if (request.method != "HEAD") text += "Content-Length: " + std::to_string(answer.body.size()) + "\r\n";
    text += "\r\n";
    if (request.method != "HEAD") text += answer.body;
    sendAll(fd, text);
  }

  static void sendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t put = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (put <= 0) return;
      data.remove_prefix(static_cast<std::size_t>(put));
    }
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace dr::test
