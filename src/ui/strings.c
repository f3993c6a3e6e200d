#include "ui/strings.h"

#include <stdio.h>

/* The plain strings: [id][lang]. */
static const char *const str_table[S__LAST][LANG__LAST] = {
    [S_APP_TITLE] = { "社保卡密码修改", "Social Security Card PIN" },
    [S_BTN_LANG] = { "English", "中文" },
    [S_BTN_CANCEL] = { "取消", "Cancel" },
    [S_BTN_CONTINUE] = { "继续办理", "Continue" },
    [S_KEY_BACK] = { "删除", "Delete" },
    [S_KEY_OK] = { "确认", "OK" },
    [S_CARD_LABEL] = { "卡号 %s", "Card %s" },
    [S_HOLDER_LABEL] = { "持卡人 %s", "Holder %s" },
    [S_PIN_HINT_OLD] = { "输入%d位密码，然后按“确认”", "Type the %d digits, then press OK" },
    [S_PIN_HINT_NEW] = { "%d位数字。不能用初始密码、同一个数字或连续数字",
                         "%d digits. Not the initial PIN, not one digit repeated, not a run like 345678" },
    [S_PIN_HINT_CONFIRM] = { "为确认无误，请把新密码再输入一次", "To be sure, type the new PIN once more" },
    [S_WRONG_PIN_COUNT] = { "密码错误，还可以再试%d次", "Wrong PIN. %d tries left" },
    [S_WRONG_PIN_LAST] = { "密码错误。这是最后一次机会，再错卡片将被锁定",
                           "Wrong PIN. This is your last try: one more mistake locks the card" },
    [S_WRONG_PIN_PLAIN] = { "密码错误，请重新输入", "Wrong PIN. Please try again" },
    [S_LAST_TRY] = { "最后一次机会：再输错一次，卡片将被锁定。记不清了？请按“忘记密码”",
                     "Last try: one more wrong PIN locks the card. Not sure? Press Forgot PIN" },
    [S_WRONG_LENGTH] = { "请输入%d位数字", "Please type %d digits" },
    [S_WARNING] = { "您还在吗？%d秒后将自动退出", "Are you still there? Leaving in %d seconds" },
    [S_COUNTER_ADVICE] = { "请携带身份证到社保服务窗口办理",
                           "Please go to a social security service counter with your ID card" },
    [S_CODE_HINT] = { "输入技术人员代码，然后按“确认”", "Type the technician code, then press OK" },
    [S_BTN_REQUEUE] = { "重新发送被拒记录（%d）", "Send dead letters again (%d)" },
    [S_BTN_EXIT] = { "退出", "Exit" },
    [S_SV_VERSION] = { "软件版本", "Version" },
    [S_SV_TERMINAL] = { "终端编号", "Terminal" },
    [S_SV_READERS] = { "读卡器", "Readers" },
    [S_SV_READER_USED] = { "在用读卡器", "Reader in use" },
    [S_SV_PROFILE] = { "上一张卡", "Last card profile" },
    [S_SV_BUREAU] = { "社保系统", "Bureau" },
    [S_SV_LAST_ERROR] = { "最近的错误", "Last error" },
    [S_SV_OUTBOX] = { "待发送记录", "Outbox" },
    [S_SV_DEAD] = { "被拒记录", "Dead letters" },
    [S_SV_UNMOVABLE] = { "；另有 %d 份滞留在待发送目录", "; %d more stuck in the outbox" },
    [S_SV_UPTIME] = { "已运行", "Uptime" },
    [S_SV_DISK] = { "记录盘可用空间", "Free for the outbox" },
    [S_SV_STORAGE] = { "记录盘", "Outbox disk" },
    [S_SV_NONE] = { "无", "none" },
    [S_SV_OK] = { "正常", "fine" },
    [S_SV_BUREAU_OK] = { "可以连接", "reachable" },
    [S_SV_BUREAU_DOWN] = { "连接不上", "unreachable" },
    [S_SV_BUREAU_UNKNOWN] = { "还不知道", "not known yet" },
    [S_BTN_FORGOT] = { "忘记密码", "Forgot PIN" },
    [S_BTN_RESET] = { "发送验证码", "Text me a code" },
    [S_BLOCKED_CAN_RESET] = { "密码错误次数过多，卡片已锁定。您可以在本机用手机短信验证码解锁，并马上设置新密码；也可以携带身份证到社保服务窗口办理",
                              "Too many wrong PINs have locked the card. You can unlock it here with a code texted to your phone and choose a new PIN at once, or go to a service counter with your ID card" },
    [S_CODE_SENT] = { "验证码已用短信发到您的手机 %s", "We texted a code to your phone %s" },
    [S_CODE_VALID] = { "%d分钟内有效。输入6位验证码，然后按“确认”", "It is valid for %d minutes. Type the 6 digits, then press OK" },
    [S_CODE_WRONG_COUNT] = { "验证码不对，还可以再试%d次", "That code is not right. %d more tries" },
    [S_BTN_DONE] = { "知道了", "I understand" },
    [S_UNKNOWN_GONE] = { "刚才的卡片在修改密码时被拔出，无法确认密码是否已修改。办理记录已报送社保部门，请到社保服务窗口查询结果，不要在药店等处试输密码",
                         "The last card was removed mid-change, so its PIN may or may not be new. The bureau has the record: ask at a service counter, not by trying a PIN in a shop" },
    [S_UNKNOWN_ADVICE] = { "无法确认密码是否已修改。办理记录已报送社保部门。请取回卡片，到社保服务窗口查询结果，不要在药店等处试输密码",
                           "We cannot tell whether your PIN changed. The record has been sent to the bureau. Please take your card and ask at a service counter, rather than trying a PIN at a pharmacy" },
    [S_TAKE_CARD_REMINDER] = { "请取走您的卡", "Please take your card" },
    [S_STATION_COUNTER] = { "最近的服务窗口：%s", "Nearest service counter: %s" },
    [S_STATION_HOURS] = { "办理时间：%s", "Open: %s" },
    [S_STATION_HOTLINE] = { "咨询电话：12333", "Helpline: 12333" },
};

static const char *const str_headings[ST__LAST][LANG__LAST] = {
    [ST_IDLE] = { "请插入社保卡", "Please insert your social security card" },
    [ST_READING_CARD] = { "正在读卡，请稍候", "Reading your card, please wait" },
    [ST_CARD_REJECTED] = { "此卡不能在本机修改密码", "This card cannot change its PIN here" },
    [ST_ENTER_OLD_PIN] = { "请输入原密码", "Please enter your current PIN" },
    [ST_VERIFYING] = { "正在核对密码，请稍候", "Checking your PIN, please wait" },
    [ST_ENTER_NEW_PIN] = { "请输入新密码", "Please choose a new PIN" },
    [ST_CONFIRM_NEW_PIN] = { "请再次输入新密码", "Please type the new PIN again" },
    [ST_CHANGING] = { "正在修改密码，请不要拔卡", "Changing your PIN. Do not remove the card" },
    [ST_SUCCESS] = { "密码修改成功", "Your PIN is changed" },
    [ST_CARD_BLOCKED] = { "密码已锁定", "Your card's PIN is locked" },
    [ST_ERROR] = { "没有办理完成", "This could not be finished" },
    [ST_OUT_OF_SERVICE] = { "本机暂停服务", "This terminal is out of service" },
    [ST_TAKE_CARD] = { "请取回您的社保卡", "Please take your card" },
    [ST_SERVICE_CODE] = { "技术人员代码", "Technician code" },
    [ST_SERVICE] = { "维护信息", "Service" },
    [ST_RESET_OFFER] = { "忘记密码？可以在本机重置", "Forgot your PIN? Reset it here" },
    [ST_RESET_REQUESTING] = { "正在发送短信验证码", "Sending a code to your phone" },
    [ST_ENTER_RESET_CODE] = { "请输入短信验证码", "Type the code from the text message" },
    [ST_RESET_AUTHORIZING] = { "正在核对验证码，请稍候", "Checking the code, please wait" },
    [ST_RESETTING] = { "正在重置密码，请不要拔卡", "Resetting your PIN. Do not remove the card" },
};

/* The sentence under the heading: by state for a plain visit, then by
 * notice (the same notice reads the same on every screen). */
static const char *const str_state_bodies[ST__LAST][LANG__LAST] = {
    [ST_IDLE] = { "芯片朝上，按箭头方向插入下方卡槽", "Chip side up, into the slot below as the arrow shows" },
    [ST_READING_CARD] = { "请不要拔出卡片", "Please do not remove the card" },
    [ST_VERIFYING] = { "请不要拔出卡片", "Please do not remove the card" },
    [ST_CHANGING] = { "这需要几秒钟", "This takes a few seconds" },
    [ST_SUCCESS] = { "请取回您的社保卡，请记住新密码", "Please take your card and remember your new PIN" },
    [ST_CARD_BLOCKED] = { "密码错误次数过多，卡片已锁定。请取回卡片，携带身份证到社保服务窗口解锁",
                          "Too many wrong PINs have locked the card. Please take your card to a social security service counter with your ID card" },
    [ST_ERROR] = { "密码没有修改。请取回卡片", "Your PIN was not changed. Please take your card" },
    [ST_OUT_OF_SERVICE] = { "请取回卡片，到社保服务窗口办理", "Please take your card and go to a service counter" },
    [ST_TAKE_CARD] = { "密码没有修改", "Your PIN was not changed" },
    [ST_RESET_OFFER] = { "我们向您在社保登记的手机号发送6位验证码。输入后，卡片密码恢复为初始密码，接着请您马上设置新密码。需要本卡和登记的手机",
                         "We text a 6-digit code to the phone number the bureau has for you. Once you type it, the card goes back to the initial PIN and you choose a new PIN at once. You need this card and that phone" },
    [ST_RESET_REQUESTING] = { "请稍候，不要拔出卡片", "Please wait, and do not remove the card" },
    [ST_RESET_AUTHORIZING] = { "请稍候，不要拔出卡片", "Please wait, and do not remove the card" },
    [ST_RESETTING] = { "这需要几秒钟", "This takes a few seconds" },
};

static const char *const str_notice_bodies[NT__LAST][LANG__LAST] = {
    [NT_PINS_DIFFER] = { "两次输入的新密码不一样，请重新设置新密码",
                         "The two new PINs were different. Please choose the new PIN again" },
    [NT_PIN_TOO_SIMPLE] = { "新密码太简单：不能全是同一个数字，也不能是连续数字",
                            "That PIN is too simple: not one digit repeated, not a run like 345678" },
    [NT_PIN_IS_INITIAL] = { "新密码不能是初始密码，请换一个", "The new PIN cannot be the initial PIN. Please choose another" },
    [NT_PIN_SAME_AS_OLD] = { "新密码不能和原密码相同，请换一个", "The new PIN must differ from the current one. Please choose another" },
    [NT_CARD_REMOVED] = { "卡片已拔出，密码没有修改", "The card was removed. Nothing was changed" },
    [NT_BUREAU_UNREACHABLE] = { "暂时连不上社保系统。请取回卡片，稍后再试或到服务窗口办理",
                                "The social security system cannot be reached. Please take your card and try later, or go to a service counter" },
    [NT_ON_INITIAL_PIN] = { "您的卡还在用初始密码，请设置一个只有您知道的新密码",
                            "Your card still has the initial PIN. Please choose a new PIN that only you know" },
    [NT_CANCELLED] = { "已取消，密码没有修改", "Cancelled. Your PIN was not changed" },
    [NT_TIMED_OUT] = { "长时间没有操作，已自动退出，密码没有修改", "Nothing happened for a while, so we stopped. Your PIN was not changed" },
    [NT_CARD_LOST] = { "此卡已挂失。请取回卡片，携带身份证到社保服务窗口办理",
                       "This card is reported lost. Please take it to a social security service counter with your ID card" },
    [NT_CARD_FROZEN] = { "此卡已冻结。请取回卡片，携带身份证到社保服务窗口办理",
                         "This card is frozen. Please take it to a social security service counter with your ID card" },
    [NT_CARD_CANCELLED] = { "此卡已注销。请取回卡片，携带身份证到社保服务窗口办理",
                            "This card has been cancelled. Please take it to a social security service counter with your ID card" },
    [NT_CARD_UNKNOWN] = { "社保系统里查不到此卡。请取回卡片，携带身份证到社保服务窗口办理",
                          "The social security system does not know this card. Please take it to a service counter with your ID card" },
    [NT_CARD_UNREADABLE] = { "读不出此卡。请确认插入的是社保卡，芯片朝上；仍不行请到服务窗口",
                             "This card cannot be read. Check that it is a social security card, chip side up; if it still fails, go to a service counter" },
    [NT_CARD_EXPIRED] = { "此卡已过有效期。请携带身份证到社保服务窗口换卡",
                          "This card has expired. Please go to a service counter with your ID card for a new one" },
    [NT_CARD_LOCKED] = { "此卡已永久锁定，需要换卡。请携带身份证到社保服务窗口办理",
                         "This card is permanently locked and must be replaced. Please go to a service counter with your ID card" },
    [NT_CARD_ERROR] = { "卡片没有正确响应，密码没有修改。请取回卡片后再试一次",
                        "The card did not answer properly. Your PIN was not changed. Please take your card and try again" },
    [NT_CHANGE_UNKNOWN] = { "无法确认密码是否已经修改。请用新密码试一次；如有疑问，请到服务窗口查询",
                            "We could not confirm whether your PIN was changed. Try your new PIN; if in doubt, ask at a service counter" },
    [NT_STORAGE_FAILED] = { "本机暂时不能办理，密码没有修改。请取回卡片，到服务窗口办理",
                            "This terminal cannot do this now. Your PIN was not changed. Please take your card to a service counter" },
    [NT_READER_UNAVAILABLE] = { "本机暂时不能读卡，密码没有修改。请到社保服务窗口办理",
                                "This terminal cannot read cards right now. Nothing was changed. Please use a service counter" },
    [NT_WRONG_CODE] = { "代码不对，请重新输入", "That code is not right. Please try again" },
    [NT_STORAGE_DOWN] = { "本机暂时不能记录密码修改，所以暂停办理。请到社保服务窗口办理",
                          "This terminal cannot record PIN changes right now, so it takes none. Please use a service counter" },
    [NT_CODE_WRONG] = { "验证码不对，请重新输入", "That code is not right. Please type it again" },
    [NT_CODE_EXPIRED] = { "验证码已过期，密码没有修改。请取回卡片，稍后重新办理",
                          "The code has expired. Nothing was changed. Please take your card and start again later" },
    [NT_RESET_VOID] = { "验证码输错3次，本次重置已作废，密码没有修改。请取回卡片，明天再试，或携带身份证到社保服务窗口办理",
                        "The code was wrong three times, so this reset is void. Nothing was changed. Please take your card and try tomorrow, or go to a service counter with your ID card" },
    [NT_NO_PHONE_ON_FILE] = { "社保系统里没有您的手机号，无法发送验证码。请携带身份证到社保服务窗口办理，或拨打12333咨询",
                              "The bureau has no phone number for you, so no code can be sent. Please go to a service counter with your ID card, or call 12333" },
    [NT_TOO_MANY_RESETS] = { "此卡今天已重置3次，达到上限。请明天再试，或携带身份证到社保服务窗口办理",
                             "This card has been reset 3 times today, the most allowed. Please try tomorrow, or go to a service counter with your ID card" },
    [NT_RESET_REFUSED] = { "卡片没有接受重置，密码没有修改。请取回卡片，携带身份证到社保服务窗口办理",
                           "The card did not accept the reset. Nothing was changed. Please take your card to a service counter with your ID card" },
    [NT_RESET_UNAVAILABLE] = { "暂时连不上社保系统，现在不能重置，密码没有修改。请稍后再试，或拨打12333咨询",
                               "The social security system cannot be reached, so the PIN cannot be reset now. Nothing was changed. Please try later, or call 12333" },
    [NT_CARD_NOT_ACTIVE] = { "此卡已挂失、冻结或注销，不能在本机重置密码。请携带身份证到社保服务窗口办理",
                             "This card is lost, frozen or cancelled and cannot be reset here. Please go to a service counter with your ID card" },
    [NT_RESET_FAILED] = { "本次重置没有完成，密码没有修改。请取回卡片后重新办理，或到社保服务窗口办理",
                          "The reset could not be finished. Nothing was changed. Please take your card and start again, or go to a service counter" },
    [NT_PIN_WAS_RESET] = { "密码已恢复为初始密码。请现在设置一个只有您知道的新密码",
                           "Your PIN is back to the initial PIN. Please choose a new PIN that only you know now" },
};

const char *str_get(str_id id, core_lang lang)
{
    return id < S__LAST && lang < LANG__LAST ? str_table[id][lang] : "";
}

const char *str_heading(core_state s, core_lang lang)
{
    return s < ST__LAST && lang < LANG__LAST ? str_headings[s][lang] : "";
}

const char *str_body(core_state s, core_notice n, core_lang lang)
{
    const char *r = NULL;

    if (lang >= LANG__LAST || s >= ST__LAST)
        return "";
    if (n < NT__LAST)
        r = str_notice_bodies[n][lang];
    if (r == NULL)
        r = str_state_bodies[s][lang];
    return r ? r : "";
}

char *str_fmt(char *buf, size_t len, str_id id, core_lang lang, int n)
{
    /* The format comes from the table above, never from outside. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(buf, len, str_get(id, lang), n);
#pragma GCC diagnostic pop
    return buf;
}

void str_each(void (*fn)(const char *s, void *ud), void *ud)
{
    for (int l = 0; l < LANG__LAST; l++) {
        for (int i = 0; i < S__LAST; i++)
            fn(str_table[i][l] ? str_table[i][l] : "", ud);
        for (int i = 0; i < ST__LAST; i++) {
            fn(str_headings[i][l] ? str_headings[i][l] : "", ud);
            if (str_state_bodies[i][l])
                fn(str_state_bodies[i][l], ud);
        }
        for (int i = 0; i < NT__LAST; i++)
            if (str_notice_bodies[i][l])
                fn(str_notice_bodies[i][l], ud);
    }
}
