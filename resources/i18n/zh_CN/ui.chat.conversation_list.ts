<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>ConversationList</name>
    <message>
        <source>Export as &amp;Markdown…</source>
        <translation>导出为 Markdown(&amp;M)…</translation>
    </message>
    <message>
        <source>Export as &amp;JSON…</source>
        <translation>导出为 JSON(&amp;J)…</translation>
    </message>
    <message>
        <source>Export as &amp;HTML…</source>
        <translation>导出为 HTML(&amp;H)…</translation>
    </message>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>{who}: {snippet}</source>
        <translation>{who}：{snippet}</translation>
    </message>
    <message>
        <source>Chats sidebar</source>
        <translation>对话侧栏</translation>
    </message>
    <message>
        <source>Search chats</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Search all chats</source>
        <translation>搜索所有对话</translation>
    </message>
    <message>
        <source>Find messages in every chat. Esc clears the search.</source>
        <translation>在所有对话中查找消息。按 Esc 清除搜索。</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Start a new conversation</source>
        <translation>开始新对话</translation>
    </message>
    <message>
        <source>Chats</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Projects, then chats, most recent first. F2 renames, Delete deletes, the context menu exports and manages projects; drag a chat onto a project to move it there.</source>
        <translation>先列项目，再列对话，最近的在前。F2 重命名，Delete 删除，右键菜单可导出和管理项目；把对话拖到项目上即可移入该项目。</translation>
    </message>
    <message>
        <source>Bring back what was just deleted</source>
        <translation>恢复刚刚删除的内容</translation>
    </message>
    <message>
        <source>Chats error</source>
        <translation>对话错误</translation>
    </message>
    <message>
        <source>{who} (thinking)</source>
        <translation>{who}（思考过程）</translation>
    </message>
    <message>
        <source>{who} (tool call)</source>
        <translation>{who}（工具调用）</translation>
    </message>
    <message>
        <source>Undo delete</source>
        <translation>撤销删除</translation>
    </message>
    <message>
        <source>Deleted chat</source>
        <translation>已删除的对话</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>&amp;Rename</source>
        <translation>重命名(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Delete</source>
        <translation>删除(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Import chats…</source>
        <translation>导入聊天(&amp;I)…</translation>
    </message>
    <message>
        <source>Add chats from a Glassbox JSON export or a ChatGPT conversations.json</source>
        <translation>从 Glassbox 的 JSON 导出或 ChatGPT 的 conversations.json 添加聊天</translation>
    </message>
    <message>
        <source>New &amp;project…</source>
        <translation>新建项目(&amp;P)…</translation>
    </message>
    <message>
        <source>Project &amp;settings…</source>
        <translation>项目设置(&amp;S)…</translation>
    </message>
    <message>
        <source>New &amp;chat in project</source>
        <translation>在项目中新建对话(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Delete project</source>
        <translation>删除项目(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Move out of the project</source>
        <translation>移出项目(&amp;M)</translation>
    </message>
    <message>
        <source>Deleted “{title}”.</source>
        <translation>已删除“{title}”。</translation>
    </message>
    <message>
        <source>Deleted the project “{name}”; its chats were kept.</source>
        <translation>已删除项目“{name}”；其中的对话已保留。</translation>
    </message>
    <message>
        <source>Project {name}</source>
        <translation>项目 {name}</translation>
    </message>
    <message>
        <source>Project “{name}”</source>
        <translation>项目“{name}”</translation>
    </message>
    <message>
        <source>System prompt: {text}</source>
        <translation>系统提示：{text}</translation>
    </message>
    <message>
        <source>Collections: {names}</source>
        <translation>知识库集合：{names}</translation>
    </message>
    <message>
        <source>Pinned files: {files}</source>
        <translation>固定文件：{files}</translation>
    </message>
    <message>
        <source>Last changed: unknown date</source>
        <translation>最后修改：日期未知</translation>
    </message>
    <message>
        <source>Last changed {when}</source>
        <translation>最后修改于 {when}</translation>
    </message>
    <message>
        <source>Imported from {source} ({file}) on {date}</source>
        <translation>于 {date} 从 {source}（{file}）导入</translation>
    </message>
    <message>
        <source>Search result in {title}</source>
        <translation>“{title}”中的搜索结果</translation>
    </message>
    <message>
        <source>No messages contain “{query}”.</source>
        <translation>没有消息包含“{query}”。</translation>
    </message>
    <message>
        <source>Chats actions</source>
        <translation>对话列表操作</translation>
    </message>
    <message>
        <source>Project actions</source>
        <translation>项目操作</translation>
    </message>
    <message>
        <source>Chat actions</source>
        <translation>对话操作</translation>
    </message>
</context>
</TS>
