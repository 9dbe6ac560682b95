//! Strings of the app's own pages.

super::catalogue!(Messages {
    // The frame of every page
    app_name => "shoplink", "shoplink";
    footer => "shoplink — kết nối cửa hàng với ITS (Zalo ZNS, tổng đài)", "shoplink — links shops to ITS (Zalo ZNS, call centre)";
    skip_to_content => "Bỏ qua, đến nội dung chính", "Skip to main content";
    nav_label => "Điều hướng chính", "Main navigation";
    nav_shops => "Cửa hàng của tôi", "My shops";
    nav_admin_overview => "Tổng quan", "Overview";
    nav_admin_shops => "Cửa hàng", "Shops";
    nav_admin_users => "Người dùng", "Users";
    nav_admin_jobs => "Kiểm tra hàng loạt", "Bulk verify";
    nav_admin_settings => "Cài đặt", "Settings";
    logout => "Đăng xuất", "Log out";
    switch_language => "English", "Tiếng Việt";
    sandbox_badge => "Chế độ thử nghiệm (sandbox)", "Sandbox mode";
    sandbox_explainer => "Ứng dụng đang dùng ITS giả lập chạy trên máy này, không kết nối với ITS thật.", "The app is talking to a simulated ITS on this machine, not to the real provider.";
    sandbox_open => "Mở trang quản lý sandbox", "Open the sandbox's page";
    back_home => "Về trang chủ", "Back to the home page";
    cancel => "Huỷ", "Cancel";
    optional => "không bắt buộc", "optional";

    // Login
    login_title => "Đăng nhập", "Log in";
    login_button => "Đăng nhập", "Log in";
    field_email => "Email", "Email";
    field_password => "Mật khẩu", "Password";
    error_login_failed => "Email hoặc mật khẩu không đúng.", "The email or the password is wrong.";
    error_login_required => "Vui lòng đăng nhập để tiếp tục.", "Please log in to continue.";
    error_password_too_short => "Mật khẩu cần ít nhất 10 ký tự.", "The password needs at least 10 characters.";
    error_password_too_long => "Mật khẩu dài quá 128 ký tự.", "The password is longer than 128 characters.";

    // Shops
    shops_title => "Cửa hàng của tôi", "My shops";
    shops_empty => "Bạn chưa có cửa hàng nào. Thêm cửa hàng đầu tiên để kết nối với Zalo qua ITS.", "You have no shop yet. Add your first shop to connect it to Zalo through ITS.";
    add_shop => "Thêm cửa hàng", "Add a shop";
    new_shop_title => "Thêm cửa hàng", "Add a shop";
    field_shop_name => "Tên cửa hàng", "Shop name";
    field_phone => "Số điện thoại", "Phone";
    field_external_id => "Mã cửa hàng trong hệ thống của bạn", "Your own shop id";
    external_id_hint => "Nếu có, ITS sẽ ghi lại mã này cùng liên kết để đối chiếu về sau.", "If given, ITS records it with the link so both sides can match records later.";
    save_shop => "Lưu cửa hàng", "Save shop";
    shop_title => "Cửa hàng", "Shop";
    updated_label => "Cập nhật", "Updated";
    details_heading => "Thông tin cửa hàng", "Shop details";
    back_to_shops => "Danh sách cửa hàng", "All shops";
    back_to_shop => "Về trang cửa hàng", "Back to the shop";
    flash_shop_created => "Đã thêm cửa hàng. Bấm \"Kết nối Zalo\" để liên kết với ITS.", "Shop added. Press \"Connect Zalo\" to link it with ITS.";
    error_external_id_invalid => "Mã cửa hàng tối đa 100 ký tự, không chứa ký tự điều khiển.", "The shop id has at most 100 characters and no control characters.";
    error_external_id_taken => "Bạn đã có một cửa hàng khác với mã này.", "You already have another shop with this id.";

    // The connection
    connection_heading => "Kết nối ITS", "ITS connection";
    connect_zalo => "Kết nối Zalo", "Connect Zalo";
    reconnect_zalo => "Kết nối lại", "Reconnect";
    connect_again => "Thử kết nối lại", "Try connecting again";
    connect_explainer => "Khi bấm \"Kết nối Zalo\", bạn sẽ được chuyển sang trang đăng nhập của ITS. Đăng nhập và đồng ý, rồi bạn sẽ được đưa về đây.", "When you press \"Connect Zalo\" you go to the ITS login page. Log in and approve, and you come straight back here.";
    connected_explainer => "Cửa hàng đã kết nối với ITS. Khoá cửa hàng được lưu mã hoá và chỉ hiển thị 4 ký tự cuối.", "The shop is connected to ITS. Its shop key is stored encrypted and only its last 4 characters are shown.";
    steps_label => "Các bước kết nối", "Connection steps";
    step_your_shop => "Cửa hàng của bạn", "Your shop";
    step_its_login => "Đăng nhập ITS", "ITS login";
    step_done => "Hoàn tất", "Done";
    its_shop_label => "Cửa hàng trên ITS", "ITS shop";
    its_shop_id_label => "Mã cửa hàng ITS", "ITS shop id";
    shop_key_label => "Khoá cửa hàng", "Shop key";
    key_unreadable => "Không giải mã được khoá đã lưu; vui lòng kết nối lại.", "The stored key cannot be decrypted; please reconnect.";
    last_verified_label => "Kiểm tra lần cuối", "Last verified";
    failure_heading => "Kết nối chưa thành công:", "The connection did not succeed:";
    provider_said => "ITS trả lời", "ITS said";
    flash_connected => "Đã kết nối với ITS: {}", "Connected to ITS: {}";
    disconnect => "Ngắt kết nối", "Disconnect";
    disconnect_title => "Ngắt kết nối cửa hàng?", "Disconnect this shop?";
    disconnect_warning => "Khoá cửa hàng sẽ bị xoá khỏi hệ thống. Các hệ thống dùng khoá này sẽ không gửi được thông báo Zalo cho tới khi bạn kết nối lại.", "The shop key will be deleted. Systems that use it cannot send Zalo notifications until you connect again.";
    disconnect_confirm => "Có, ngắt kết nối", "Yes, disconnect";
    flash_disconnected => "Đã ngắt kết nối. Khoá cửa hàng đã được xoá.", "Disconnected. The shop key has been deleted.";
    error_nothing_to_disconnect => "Cửa hàng này chưa kết nối nên không có gì để ngắt.", "This shop is not connected, so there is nothing to disconnect.";

    // States
    state_not_connected => "Chưa kết nối", "Not connected";
    state_pending => "Đang chờ ITS", "Waiting for ITS";
    state_connected => "Đã kết nối", "Connected";
    state_needs_reauth => "Cần đăng nhập lại", "Needs re-auth";
    state_failed => "Kết nối lỗi", "Failed";
    state_disconnected => "Đã ngắt kết nối", "Disconnected";

    // History
    history_heading => "Lịch sử", "History";
    history_empty => "Chưa có thay đổi nào.", "No changes yet.";
    actor_its => "ITS", "ITS";
    actor_system => "Hệ thống", "System";
    actor_user => "Người dùng", "A user";
    event_shop_created => "Tạo cửa hàng", "Shop created";
    event_connect_started => "Bắt đầu kết nối", "Connection started";
    event_connected => "Đã lưu và kiểm tra khoá cửa hàng", "Shop key stored and verified";
    event_disconnected => "Ngắt kết nối, đã xoá khoá", "Disconnected, key deleted";
    event_its_shop_id_forgotten => "ITS không nhận mã cửa hàng cũ; kết nối lại từ đầu", "ITS did not know the old shop id; starting over";

    // The callback
    callback_refused_heading => "Liên kết không hợp lệ", "This link is not valid";
    callback_used_heading => "Liên kết đã được dùng", "This link was already used";
    login_again_heading => "ITS cần bạn đăng nhập lại", "ITS asks you to log in again";
    login_again_message => "ITS cần cửa hàng đăng nhập thêm một lần nữa để hoàn tất kết nối.", "ITS needs the shop to log in once more to finish the connection.";
    login_again_button => "Đăng nhập lại trên ITS", "Log in again on ITS";
    error_callback_malformed => "Đường dẫn trả về từ ITS bị thiếu hoặc sai thông tin. Hãy bắt đầu kết nối lại từ trang cửa hàng.", "The link back from ITS is missing information or malformed. Start the connection again from the shop's page.";
    error_callback_unknown => "Không tìm thấy yêu cầu kết nối này. Hãy bắt đầu lại từ trang cửa hàng.", "This connection request is unknown. Start again from the shop's page.";
    error_callback_expired => "Yêu cầu kết nối đã hết hạn (sau 15 phút). Hãy bấm kết nối lại.", "The connection request expired (after 15 minutes). Press connect again.";
    error_callback_used => "Yêu cầu kết nối này đã được xử lý rồi. Xem kết quả trên trang cửa hàng.", "This connection request has already been handled. See the result on the shop's page.";
    error_callback_shop_not_linked => "ITS không xác nhận cửa hàng trong đường dẫn trả về. Hãy kết nối lại.", "ITS did not confirm the shop in the link back. Please connect again.";
    error_shop_id_mismatch => "Cửa hàng ITS trả về khác với cửa hàng đã liên kết trước đó. Yêu cầu đã bị từ chối để bảo vệ tài khoản.", "ITS answered for a different shop than the one already linked. The request was refused to protect the account.";
    error_too_many_attempts => "Bạn đang có quá nhiều yêu cầu kết nối dở dang. Hãy đợi vài phút rồi thử lại.", "You have too many unfinished connection requests. Wait a few minutes and try again.";
    error_shop_changed_meanwhile => "Cửa hàng vừa được thay đổi ở nơi khác. Hãy tải lại trang và thử lại.", "The shop was changed elsewhere meanwhile. Reload the page and try again.";

    // What ITS answered
    error_its_api_key => "ITS không chấp nhận khoá API của đối tác: đây là lỗi cấu hình, vui lòng báo quản trị viên.", "ITS refused the partner API key: this is a configuration problem, please tell an administrator.";
    error_its_key_rejected => "ITS không chấp nhận khoá cửa hàng vừa nhận. Hãy kết nối lại.", "ITS did not accept the shop key it just gave. Please connect again.";
    error_its_permission_denied => "Cửa hàng này chưa từng liên kết với đối tác trên ITS.", "This shop has never been linked with the partner on ITS.";
    error_its_account_closed => "Tài khoản cửa hàng trên ITS đã bị đóng. Vui lòng liên hệ ITS.", "The shop's ITS account is closed. Please contact ITS.";
    error_its_invalid_argument => "ITS cho rằng thông tin gửi đi chưa hợp lệ (ví dụ email hoặc số điện thoại). Hãy kiểm tra thông tin cửa hàng.", "ITS says some information is not valid (e.g. email or phone). Check the shop's details.";
    error_its_failed_precondition => "ITS từ chối yêu cầu ở trạng thái hiện tại của cửa hàng.", "ITS refused the request in the shop's current state.";
    error_its_bad_route => "Địa chỉ ITS được cấu hình không đúng. Vui lòng báo quản trị viên.", "The configured ITS address is wrong. Please tell an administrator.";
    error_its_already_exists => "ITS báo liên kết này đã tồn tại.", "ITS says this link already exists.";
    error_its_unavailable => "ITS đang gặp sự cố. Vui lòng thử lại sau ít phút.", "ITS is having trouble. Please try again in a few minutes.";
    error_its_timeout => "ITS không trả lời kịp. Vui lòng thử lại.", "ITS did not answer in time. Please try again.";
    error_its_unreachable => "Không kết nối được tới ITS. Vui lòng thử lại sau.", "ITS could not be reached. Please try again later.";
    error_its_bad_answer => "ITS trả lời không đúng định dạng. Vui lòng thử lại sau.", "ITS gave an answer we could not read. Please try again later.";
    error_its_unknown => "ITS báo một lỗi chưa biết.", "ITS reported an unknown error.";
    error_its_relogin_loop => "ITS vẫn yêu cầu đăng nhập lại sau nhiều lần thử. Hãy thử lại sau hoặc liên hệ ITS.", "ITS kept asking for another login. Try again later or contact ITS.";
    error_its_shop_taken => "Cửa hàng ITS này đã được liên kết với một cửa hàng khác trong hệ thống. Quản trị viên có thể xem cửa hàng đó.", "This ITS shop is already linked to another shop here. An administrator can see which one.";
    error_its_auth_url_refused => "ITS gửi về một địa chỉ đăng nhập không được phép. Vui lòng báo quản trị viên.", "ITS sent a login address that is not allowed. Please tell an administrator.";

    // Errors of any page
    error_title => "Có lỗi xảy ra", "Something went wrong";
    error_not_found => "Không tìm thấy trang này.", "This page does not exist.";
    error_forbidden => "Bạn không có quyền xem trang này.", "You are not allowed to see this page.";
    error_csrf => "Biểu mẫu đã hết hạn hoặc không đến từ trang này. Hãy tải lại trang và thử lại.", "The form expired or did not come from this site. Reload the page and try again.";
    error_form_invalid => "Biểu mẫu gửi lên không hợp lệ.", "The submitted form is not valid.";
    error_form_too_large => "Nội dung gửi lên quá lớn.", "The submitted content is too large.";
    error_unavailable => "Hệ thống tạm thời không lưu được dữ liệu. Không có gì bị thay đổi; vui lòng thử lại sau.", "The system cannot store data right now. Nothing was changed; please try again later.";
    error_internal => "Đã có lỗi phía máy chủ. Không có gì bị thay đổi; vui lòng thử lại.", "The server ran into a problem. Nothing was changed; please try again.";

    // Domain checks
    error_shop_id_invalid => "Mã cửa hàng ITS không hợp lệ.", "The ITS shop id is not valid.";
    error_shop_key_invalid => "Khoá cửa hàng không hợp lệ.", "The shop key is not valid.";
    error_state_invalid => "Trạng thái không hợp lệ.", "Unknown state.";
    error_role_invalid => "Vai trò không hợp lệ.", "Unknown role.";
    error_email_invalid => "Địa chỉ email không hợp lệ.", "The email address is not valid.";
    error_phone_invalid => "Số điện thoại không hợp lệ (ví dụ: 0912 345 678).", "The phone number is not valid (e.g. 0912 345 678).";
    error_shop_name_empty => "Vui lòng nhập tên cửa hàng.", "Please enter the shop name.";
    error_shop_name_too_long => "Tên cửa hàng dài quá 200 ký tự.", "The shop name is longer than 200 characters.";
    error_text_control_chars => "Nội dung chứa ký tự điều khiển không được phép.", "The text contains control characters that are not allowed.";

    // Admin: overview, shop list, shop detail, export
    admin_overview_title => "Tổng quan", "Overview";
    admin_all_shops => "Tất cả cửa hàng", "All shops";
    admin_states_heading => "Cửa hàng theo trạng thái kết nối", "Shops by connection state";
    admin_total => "tổng", "total";
    admin_problems_heading => "Lỗi và yêu cầu đăng nhập lại gần đây", "Newest failures and re-auth needs";
    admin_no_problems => "Không có cửa hàng nào đang lỗi hay cần đăng nhập lại.", "No shop is failing or needs re-auth.";
    admin_shops_title => "Cửa hàng", "Shops";
    admin_shop_title => "Cửa hàng", "Shop";
    admin_export_csv => "Xuất CSV", "Export CSV";
    admin_search_label => "Tìm kiếm", "Search";
    admin_search_placeholder => "Tên, điện thoại, email, mã cửa hàng, mã ITS", "Name, phone, email, shop id, ITS id";
    admin_state_filter => "Trạng thái", "State";
    admin_all_states => "Mọi trạng thái", "All states";
    admin_sort_label => "Sắp xếp", "Sort";
    admin_sort_updated => "Thay đổi gần nhất", "Last change";
    admin_sort_name => "Tên (A–Z)", "Name (A–Z)";
    admin_apply_filters => "Lọc", "Filter";
    admin_clear_filters => "Xoá bộ lọc", "Clear filters";
    admin_owner_filter => "Chỉ cửa hàng của", "Only shops of";
    admin_no_shops_match => "Không có cửa hàng nào khớp. Thử bỏ dấu hoặc bớt bộ lọc.", "No shop matches. Try fewer filters or another spelling.";
    admin_last_change => "Thay đổi gần nhất", "Last change";
    admin_pages_label => "Trang", "Pages";
    admin_first_page => "Trang đầu", "First page";
    admin_next_page => "Trang sau", "Next page";
    admin_verify_now => "Kiểm tra ngay", "Verify now";
    admin_connect_link_heading => "Liên kết kết nối", "Connect link";
    admin_connect_link_hint => "Gửi liên kết này cho chủ cửa hàng: sau khi đăng nhập, họ bấm \"Kết nối Zalo\" để bắt đầu.", "Send this link to the shop owner: after logging in they press \"Connect Zalo\" to start.";
    admin_copy => "Sao chép", "Copy";
    admin_created => "Ngày tạo", "Created";
    csv_shop_id => "Mã cửa hàng", "Shop id";
    csv_owner => "Chủ cửa hàng", "Owner";
    csv_state => "Trạng thái", "State";
    flash_verified => "Khoá cửa hàng vẫn hoạt động. Đã cập nhật thời gian kiểm tra.", "The shop key works. The verification time is updated.";
    flash_verify_needs_reauth => "ITS không còn chấp nhận khoá này: cửa hàng cần đăng nhập lại.", "ITS no longer accepts this key: the shop needs to log in again.";
    flash_verify_no_key => "Cửa hàng chưa có khoá để kiểm tra.", "The shop has no key to verify.";
    flash_verify_its_trouble => "ITS chưa trả lời được; trạng thái giữ nguyên. Hãy thử lại sau.", "ITS could not answer; nothing changed. Try again later.";
    event_verified => "Kiểm tra lại: khoá hoạt động", "Re-checked: the key works";
    event_key_rejected => "ITS từ chối khoá (401): cần đăng nhập lại", "ITS refused the key (401): re-auth needed";
    error_search_invalid => "Từ khoá tìm kiếm quá dài hoặc chứa ký tự không hợp lệ.", "The search text is too long or has invalid characters.";

    // Admin: users

    // Admin: settings

    // Admin: bulk and scheduled verification
});
